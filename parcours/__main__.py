"""``python -m parcours``: the same command line as ``parcours``."""

from parcours.cli.main import main

if __name__ == "__main__":
    main()
