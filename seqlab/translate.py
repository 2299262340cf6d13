"""``python -m seqlab.translate``: translate lines with a checkpoint (seqlab.cli.translate)."""

import sys

from seqlab.cli.translate import main

if __name__ == "__main__":
    sys.exit(main())
