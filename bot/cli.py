"""The `frontline` command: run | demo | report | migrate | check-config."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from bot.app import Adapter, Frontline
from bot.core.clock import SystemClock
from bot.core.platform import PlatformError
from bot.logs import LOG_FORMATS, setup_logging
from bot.metrics import figures
from bot.ops_http import DEFAULT_OPS_PORT, Ops, RouteHost, serve
from bot.storage.cipher import KEYS_VARIABLE, TokenCipher, TokenKeyError
from bot.storage.migrate import MigrationError
from bot.storage.url import DatabaseError, describe
from config.settings import ConfigError, Settings, demo_config, load_settings, parse_duration

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


def _setup_logging(settings: Settings, fmt: str = "text") -> None:
    # The secrets' values are masked in every line, whatever logs them.
    secrets = (
        settings.slack_bot_token,
        settings.slack_app_token,
        settings.slack_signing_secret,
        settings.discord_token,
        settings.slack_client_secret,
    )
    values = [s.get_secret_value() for s in secrets if s] + [os.environ.get("PGPASSWORD", "")]
    # The keys that encrypt stored Slack tokens (bot/storage/cipher.py).
    values += [key.strip() for key in os.environ.get(KEYS_VARIABLE, "").split(",")]
    setup_logging(settings.bot.log_level, fmt, values)


def _ops_port(text: str) -> int | None:
    """A port for the health and metrics endpoints (0: any free one), or None for "off"."""
    if text.strip().lower() in ("off", "none", "no", "false"):
        return None
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port < 65536:
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r} (--ops-port or FRONTLINE_OPS_PORT) is not a port (0..65535) or 'off'"
        )
    return port


def _log_format(text: str) -> str:
    if text.strip().lower() not in LOG_FORMATS:
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r} (--log-format or FRONTLINE_LOG_FORMAT): use {' or '.join(LOG_FORMATS)}"
        )
    return text.strip().lower()


def _route_host(adapters: Sequence[Adapter], http: bool) -> RouteHost | None:
    """The adapter whose web server also serves /healthz and /metrics (Slack HTTP mode)."""
    if not http:
        return None
    from bot.adapters.slack_adapter import SlackAdapter

    return next((a for a in adapters if isinstance(a, SlackAdapter)), None)


def cmd_check_config(args: argparse.Namespace) -> int:
    """Validate the configuration and print every problem, or a short summary."""
    settings = _settings(args)
    try:
        cipher = TokenCipher.from_env()
    except TokenKeyError as exc:
        raise ConfigError([str(exc)]) from None
    print(
        f"Configuration OK: {len(settings.channels)} channel(s), "
        f"{len(settings.calendars)} calendar(s), database {describe(settings.bot.database)}"
    )
    for name, present in (("Slack", settings.slack_bot_token), ("Discord", settings.discord_token)):
        print(f"  {name}: {'token set' if present else 'no token in the environment'}")
    if settings.slack_client_id and settings.slack_client_secret:
        print("  Slack: OAuth client set (several workspaces, with run --http)")
    if cipher.encrypts:
        print(f"  Stored Slack tokens: encrypted ({cipher.key_count} key(s))")
    return 0


def configured_adapters(
    settings: Settings, *, http: bool = False, port: int = 3000
) -> list[Adapter]:
    """The platform adapters whose credentials are present in the environment.

    Slack runs in Socket Mode, or serves the Events API on `port` with `http`.
    """
    adapters: list[Adapter] = []
    oauth = settings.slack_client_id is not None or settings.slack_client_secret is not None
    if settings.slack_bot_token is not None or oauth:
        from bot.adapters.slack_adapter import adapter_from_env

        adapters.append(adapter_from_env(settings, http=http, port=port))
    if settings.discord_token is not None:
        from bot.adapters.discord_adapter import DiscordAdapter

        adapters.append(DiscordAdapter(settings))
    return adapters


def cmd_run(args: argparse.Namespace) -> int:
    """Run the bot until interrupted."""
    settings = _settings(args)
    _setup_logging(settings, args.log_format)
    adapters = configured_adapters(settings, http=args.http, port=args.port)
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
        async with (
            Frontline.open(settings, SystemClock(), {a.name: a.platform for a in adapters}) as app,
            serve(
                Ops(app, adapters),
                host=args.ops_host,
                port=args.ops_port,
                route_host=_route_host(adapters, args.http),
            ),
        ):
            await app.run_live(adapters, until=stop)

    failures: list[str] = []
    try:
        asyncio.run(main())
    except* PlatformError as failed:
        # A rejected token or an unreachable platform: say so, without a traceback.
        failures = [str(exc) for exc in failed.exceptions]
    for failure in failures:
        print(f"Could not connect: {failure}", file=sys.stderr)
    return 1 if failures else 0


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
        from bot.storage.repos import Store

        async with await Store.open(args.db or settings.bot.database) as store:
            applied, version = store.migrations_applied, store.schema_version
        print(f"Applied {len(applied)} migration(s); schema version {version}.")

    asyncio.run(main())
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Print the figures of a period from the database."""
    settings = _settings(args)
    period = parse_duration(args.since)

    async def main() -> None:
        from bot.storage.repos import Store
        from handlers._format import render_figures

        async with await Store.open(args.db or settings.bot.database) as store:
            now = datetime.now(UTC)
            current = await figures(store, now - period, now, now)
            previous = await figures(store, now - 2 * period, now - period, now)
        print(render_figures(current, previous, args.format))

    asyncio.run(main())
    return 0


def _moment(text: str) -> datetime:
    """A UTC moment from YYYY-MM-DD or an ISO date-time."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2024-03-01") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _positive(text: str) -> int:
    """A whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return value


def cmd_replay(args: argparse.Namespace) -> int:
    """Replay an export and print (and optionally write) the report."""
    from bot.replay import ReplayOptions, message_link, render_report, replay, write_results
    from bot.replay_workers import WorkerFailed

    options = ReplayOptions(
        path=Path(args.path),
        fmt=args.format,
        config=Path(args.config) if args.config else None,
        channels=[c.strip() for c in args.channels.split(",") if c.strip()]
        if args.channels
        else None,
        since=args.since,
        until=args.until,
        all_messages=args.all_messages,
        workers=args.workers,
    )
    try:
        result = asyncio.run(replay(options))
    except (ValueError, FileNotFoundError, WorkerFailed) as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    report = render_report(result, Path(args.path).name, lambda q: message_link(q, args.slack_url))
    if args.out:
        with Path(args.out).open("w", encoding="utf-8") as fh:
            write_results(result, fh)
    if args.report:
        Path(args.report).write_text(report, encoding="utf-8")
    print(report)
    if result.problems:
        print(
            f"{len(result.problems)} problem(s) in the export were skipped; see the report.",
            file=sys.stderr,
        )
    return 0


def parser() -> argparse.ArgumentParser:
    """The argument parser."""
    p = argparse.ArgumentParser(prog="frontline", description="No question left behind.")
    p.add_argument("--config", help="TOML settings file (default: $FRONTLINE_CONFIG)")
    # Also accepted after the subcommand (`frontline check-config --config F`); SUPPRESS
    # keeps a value given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=argparse.SUPPRESS, help="TOML settings file")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", parents=[common], help="connect to Slack and/or Discord and watch")
    run.add_argument("--http", action="store_true", help="Slack: serve /slack/events over HTTP")
    run.add_argument("--port", type=int, default=3000, help="port for --http (default 3000)")
    env = os.environ
    run.add_argument(
        "--ops-port",
        type=_ops_port,
        default=env.get("FRONTLINE_OPS_PORT") or str(DEFAULT_OPS_PORT),
        help="port for /healthz and /metrics, or 'off' (default $FRONTLINE_OPS_PORT or "
        f"{DEFAULT_OPS_PORT}; with --http they are served on --port instead)",
    )
    run.add_argument(
        "--ops-host",
        default=env.get("FRONTLINE_OPS_HOST") or "127.0.0.1",
        help="address for --ops-port (default $FRONTLINE_OPS_HOST or 127.0.0.1)",
    )
    run.add_argument(
        "--log-format",
        type=_log_format,
        default=env.get("FRONTLINE_LOG_FORMAT") or "text",
        help="text, or json: one object per line (default $FRONTLINE_LOG_FORMAT or text)",
    )
    run.set_defaults(fn=cmd_run)
    demo = sub.add_parser(
        "demo", parents=[common], help="play a synthetic community on a virtual clock"
    )
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
    report = sub.add_parser("report", parents=[common], help="print the figures of a period")
    report.add_argument("--since", default="1d", help="period, e.g. 24h or 7d")
    report.add_argument("--format", choices=("table", "markdown", "json", "csv"), default="table")
    report.add_argument("--db", help="database (default: from the configuration)")
    report.set_defaults(fn=cmd_report)
    replay = sub.add_parser(
        "replay", parents=[common], help="replay a Slack or Discord export: figures and what-ifs"
    )
    replay.add_argument("path", help="export folder, .zip, or DiscordChatExporter .json")
    replay.add_argument(
        "--format", choices=("auto", "slack-export", "discord-export"), default="auto"
    )
    replay.add_argument("--channels", help="comma-separated channel names or ids")
    replay.add_argument("--since", type=_moment, help="first day, YYYY-MM-DD (UTC)")
    replay.add_argument("--until", type=_moment, help="last moment, YYYY-MM-DD[THH:MM] (UTC)")
    replay.add_argument("--out", help="write results.jsonl here")
    replay.add_argument("--report", help="write the Markdown report here")
    replay.add_argument(
        "--all-messages", action="store_true", help="also list non-questions in --out"
    )
    replay.add_argument(
        "--slack-url", default="https://slack.com", help="workspace URL for links in the report"
    )
    replay.add_argument(
        "--workers",
        type=_positive,
        help="processes for a big export, split by channel (default: one per processor, up to 8)",
    )
    replay.set_defaults(fn=cmd_replay)
    mig = sub.add_parser("migrate", parents=[common], help="apply pending database migrations")
    mig.add_argument("--db", help="database (default: from the configuration)")
    mig.set_defaults(fn=cmd_migrate)
    sub.add_parser(
        "check-config", parents=[common], help="validate the configuration and list every problem"
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
    except DatabaseError as exc:
        print(f"Database: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
