"""``python -m minikeras ...``: the same command line as the ``minikeras`` console script."""

import sys

from minikeras.cli import main

if __name__ == "__main__":
    sys.exit(main())
