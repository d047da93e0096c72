"""The `legcare` command: run the bot, manage the database, try it without Telegram."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import ValidationError

from bot.clock import SystemClock
from bot.db.engine import create_engine
from bot.db.migrate import upgrade_to_head
from bot.demo import DEFAULT_DEMO_DATABASE, run_demo
from bot.logging_setup import configure_logging
from bot.runner import serve
from bot.settings import MissingTokenError, Settings, get_settings
from bot.triage.export import FORMATS, export_flow
from content.pack import load_pack
from scheduler.guard import DatabaseInUseError

Command = Callable[[Settings, argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    # python-telegram-bot 22 reports durations (e.g. a 429's retry_after) as timedelta
    # only when this is set, and warns about every RetryAfter otherwise.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    try:
        settings = get_settings()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in issue['loc']).upper()}: {issue['msg']}"
            for issue in error.errors()
        )
        _fail(f"invalid configuration: {problems}")
        return 2
    secrets = (
        [settings.telegram_bot_token.get_secret_value()] if settings.telegram_bot_token else []
    )
    configure_logging(settings.log_level, secrets=secrets)
    command: Command = args.command
    try:
        return command(settings, args)
    except (MissingTokenError, DatabaseInUseError) as error:
        _fail(str(error))
        return 2


def build_parser() -> argparse.ArgumentParser:
    """The `legcare` command line (also read by the deployment-file tests)."""
    parser = argparse.ArgumentParser(prog="legcare", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run the bot against Telegram (needs a token)")
    run.add_argument(
        "--worker",
        action="store_true",
        help="deliver reminders only; another process (without --worker) receives the "
        "updates. For several processes on one PostgreSQL.",
    )
    run.set_defaults(command=_run)

    demo = commands.add_parser(
        "demo", help="chat with the bot in this terminal, against a local fake Telegram"
    )
    demo.add_argument("--database", type=Path, default=DEFAULT_DEMO_DATABASE)
    demo.add_argument("--language", default="en", help="your Telegram language (en, tr)")
    demo.set_defaults(command=_demo)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(required=True, metavar="ACTION")
    upgrade = db_commands.add_parser("upgrade", help="apply all database migrations")
    upgrade.set_defaults(command=_db_upgrade)

    triage = commands.add_parser("triage", help="the symptom-check flow, for clinicians")
    triage_commands = triage.add_subparsers(required=True, metavar="ACTION")
    export = triage_commands.add_parser(
        "export",
        help="write the whole flow: a Mermaid diagram, a Markdown document or JSON, "
        "with every red-flag rule and its source",
    )
    export.add_argument("--format", choices=FORMATS, default="markdown")
    export.add_argument("--lang", default="en", help="language of the texts (en, tr)")
    export.add_argument(
        "--output", type=Path, default=None, help="file to write (default: standard output)"
    )
    export.set_defaults(command=_triage_export)
    return parser


def _run(settings: Settings, args: argparse.Namespace) -> int:
    settings.require_token()
    asyncio.run(_serve_until_signalled(settings, receive_updates=not args.worker))
    return 0


async def _serve_until_signalled(settings: Settings, *, receive_updates: bool) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await serve(settings, clock=SystemClock(), stop=stop, receive_updates=receive_updates)


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    # The demo's own logs would interleave with the chat; only problems are shown.
    configure_logging("WARNING")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_demo(settings, database=args.database, language=args.language))
    return 0


def _db_upgrade(settings: Settings, _args: argparse.Namespace) -> int:
    async def upgrade() -> None:
        engine = create_engine(settings.database_url)
        try:
            await upgrade_to_head(engine)
        finally:
            await engine.dispose()

    asyncio.run(upgrade())
    print("database is up to date")  # noqa: T201 - this is the command's output
    return 0


def _triage_export(_settings: Settings, args: argparse.Namespace) -> int:
    pack = load_pack()
    if args.lang not in pack.languages:
        _fail(f"unknown language {args.lang!r}; choose one of {', '.join(pack.languages)}")
        return 2
    exported = export_flow(pack.triage, pack.texts, args.lang, args.format)
    if args.output is None:
        sys.stdout.write(exported if exported.endswith("\n") else exported + "\n")
    else:
        args.output.write_text(exported, encoding="utf-8")
    return 0


def _fail(message: str) -> None:
    print(f"legcare: {message}", file=sys.stderr)  # noqa: T201 - one clear line, no traceback


if __name__ == "__main__":
    sys.exit(main())
