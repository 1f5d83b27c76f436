#!/usr/bin/env python3
"""pbi-forge: `python build.py` builds powerbi/ from semantic/ and measures/.

Run `python build.py --help` for the commands (build, validate, fmt, lint, query, test, evaluate).
"""
import sys

from generator.cli import main

if __name__ == "__main__":
    sys.exit(main())
