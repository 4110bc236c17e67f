"""The `frontline` command: run | demo | report | migrate | check-config."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from bot.app import Adapter, Frontline
from bot.core.clock import SystemClock
from bot.metrics import figures
from bot.storage.db import connect
from bot.storage.migrate import MigrationError, current_version, migrate
from config.settings import ConfigError, Settings, demo_config, load_settings, parse_duration
from handlers._format import figure_lines

EXIT_CONFIG = 2
log = logging.getLogger("frontline")


def _settings(args: argparse.Namespace, *, demo: bool = False) -> Settings:
    if demo and not args.config:
        return load_settings(data=demo_config())
    return load_settings(args.config)


def _print_problems(problems: Sequence[str]) -> None:
    print(f"Configuration has {len(problems)} problem(s):", file=sys.stderr)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


def cmd_check_config(args: argparse.Namespace) -> int:
    """Validate the configuration and print every problem, or a short summary."""
    settings = _settings(args)
    print(
        f"Configuration OK: {len(settings.channels)} channel(s), "
        f"{len(settings.calendars)} calendar(s), database {settings.bot.database}"
    )
    for name, present in (("Slack", settings.slack_bot_token), ("Discord", settings.discord_token)):
        print(f"  {name}: {'token set' if present else 'no token in the environment'}")
    return 0


def configured_adapters(settings: Settings) -> list[Adapter]:
    """The platform adapters whose credentials are present in the environment.

    None ships yet: the Slack and Discord adapters plug in here as they land.
    """
    adapters: list[Adapter] = []
    return adapters


def cmd_run(args: argparse.Namespace) -> int:
    """Run the bot until interrupted."""
    settings = _settings(args)
    _setup_logging(settings.bot.log_level)
    adapters = configured_adapters(settings)
    if not adapters:
        print(
            "No platform to connect: this build has no Slack or Discord adapter configured. "
            "Set SLACK_BOT_TOKEN or DISCORD_TOKEN (see README), or try `frontline demo`.",
            file=sys.stderr,
        )
        return EXIT_CONFIG

    async def main() -> None:
        # SIGTERM and Ctrl-C stop the adapters; the store closes after in-flight events.
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        async with Frontline.open(
            settings, SystemClock(), {a.name: a.platform for a in adapters}
        ) as app:
            await app.run_live(adapters, until=stop)

    asyncio.run(main())
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Play the synthetic community."""
    from bot.demo import run_demo

    settings = _settings(args, demo=True)
    logging.basicConfig(level=logging.WARNING)
    try:
        asyncio.run(
            run_demo(
                settings,
                seed=args.seed,
                days=args.days,
                db=Path(args.db),
                start=args.start,
                replace=args.replace,
            )
        )
    except FileExistsError as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    """Apply pending migrations and print the schema version."""
    settings = _settings(args)

    async def main() -> None:
        conn = await connect(args.db or settings.bot.database)
        try:
            applied = await migrate(conn)
            version = await current_version(conn)
        finally:
            await conn.close()
        print(f"Applied {len(applied)} migration(s); schema version {version}.")

    asyncio.run(main())
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Print the figures of a period from the database."""
    settings = _settings(args)
    period = parse_duration(args.since)

    async def main() -> None:
        from bot.storage.repos import Store

        async with await Store.open(args.db or settings.bot.database) as store:
            now = datetime.now(UTC)
            f = await figures(store, now - period, now, now)
        if args.format == "json":
            data = {
                "start": f.start.isoformat(),
                "end": f.end.isoformat(),
                "questions": f.questions,
                "answered": f.answered,
                "answered_share": f.answered_share,
                "by_staff": f.by_staff,
                "by_community": f.by_community,
                "ttfr_median_seconds": f.ttfr_median,
                "ttfr_p90_seconds": f.ttfr_p90,
                "business_median_seconds": f.business_median,
                "business_p90_seconds": f.business_p90,
                "met_target": f.met_target,
                "decided": f.decided,
                "attainment": f.attainment,
                "breaches": f.breaches,
                "waiting": f.waiting,
            }
            print(json.dumps(data, indent=2))
        else:
            print("\n".join(figure_lines(f, settings)))

    asyncio.run(main())
    return 0


def parser() -> argparse.ArgumentParser:
    """The argument parser."""
    p = argparse.ArgumentParser(prog="frontline", description="No question left behind.")
    p.add_argument("--config", help="TOML settings file (default: $FRONTLINE_CONFIG)")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="connect to Slack and/or Discord and watch").set_defaults(fn=cmd_run)
    demo = sub.add_parser("demo", help="play a synthetic community on a virtual clock")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--days", type=int, default=1, choices=range(1, 31), metavar="1..30")
    demo.add_argument("--db", default="frontline-demo.db", help="SQLite file to write")
    demo.add_argument(
        "--start",
        type=date.fromisoformat,
        default=date(2026, 11, 24),
        help="first simulated day, YYYY-MM-DD",
    )
    demo.add_argument("--replace", action="store_true", help="overwrite an existing --db file")
    demo.set_defaults(fn=cmd_demo)
    report = sub.add_parser("report", help="print the figures of a period")
    report.add_argument("--since", default="1d", help="period, e.g. 24h or 7d")
    report.add_argument("--format", choices=("table", "json"), default="table")
    report.add_argument("--db", help="database (default: from the configuration)")
    report.set_defaults(fn=cmd_report)
    mig = sub.add_parser("migrate", help="apply pending database migrations")
    mig.add_argument("--db", help="database (default: from the configuration)")
    mig.set_defaults(fn=cmd_migrate)
    sub.add_parser(
        "check-config", help="validate the configuration and list every problem"
    ).set_defaults(fn=cmd_check_config)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `frontline` console script."""
    args = parser().parse_args(argv)
    try:
        return int(args.fn(args))
    except ConfigError as exc:
        _print_problems(exc.problems)
        return EXIT_CONFIG
    except MigrationError as exc:
        print(f"Migration failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
