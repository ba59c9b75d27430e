"""``python -m gspace``: the same command line as the ``gspace`` console script."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
