"""``python -m seqlab.plot``: figures and tables from run dirs (seqlab.cli.plot)."""

import sys

from seqlab.cli.plot import main

if __name__ == "__main__":
    sys.exit(main())
