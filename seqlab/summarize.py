"""``python -m seqlab.summarize``: tables and figures of a sweep dir (seqlab.cli.summarize)."""

import sys

from seqlab.cli.summarize import main

if __name__ == "__main__":
    sys.exit(main())
