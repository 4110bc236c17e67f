"""`python -m bot` runs the `frontline` command line."""

from bot.cli import main

raise SystemExit(main())
