"""``python -m seqlab.evaluate``: a checkpoint's test metrics (seqlab.cli.evaluate)."""

import sys

from seqlab.cli.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
