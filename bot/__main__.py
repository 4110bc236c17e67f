"""`python -m bot` runs the `frontline` command line."""

from bot.cli import main

if __name__ == "__main__":  # not again in a replay's worker processes
    raise SystemExit(main())
