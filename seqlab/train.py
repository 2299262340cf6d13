"""``python -m seqlab.train``: train one model on one task, run a sweep, or resume a run."""

import sys

from seqlab.cli.train import main

if __name__ == "__main__":
    sys.exit(main())
