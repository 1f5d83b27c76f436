"""`python -m generator`: the `pbi-forge` command without its console script (e.g. before `pip install`)."""
import sys

from generator.cli import main

if __name__ == "__main__":
    sys.exit(main())
