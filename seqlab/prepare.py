"""``python -m seqlab.prepare``: encode a task's files once, ahead of training."""

import sys

from seqlab.cli.prepare import main

if __name__ == "__main__":
    sys.exit(main())
