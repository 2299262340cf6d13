"""``python -m seqlab.generate``: sample text from a language model (seqlab.cli.generate)."""

import sys

from seqlab.cli.generate import main

if __name__ == "__main__":
    sys.exit(main())
