"""Run the fake Bot API standalone: ``python -m fakebot --port 8081 --token ...``.

Prints the base URL (PTB's ``base_url``) on one line, then serves until interrupted.
Users are driven over HTTP through the control API (see :mod:`fakebot.control`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from fakebot.server import DEFAULT_TOKEN, FakeBotApi


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m fakebot", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8081, help="port (0: any free port)")
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="the bot token to accept")
    parser.add_argument(
        "--rate-limits", action="store_true", help="enforce 30/s global and 1/s per chat"
    )
    parser.add_argument(
        "--random-errors", type=float, default=0.0, help="share of sends answered with 5xx"
    )
    parser.add_argument("--seed", type=int, default=None, help="seed for --random-errors")
    return parser.parse_args(argv)


async def serve(
    host: str,
    port: int,
    token: str,
    *,
    rate_limits: bool = False,
    random_errors: float = 0.0,
    seed: int | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    async with FakeBotApi(token, host=host, port=port) as api:
        if rate_limits:
            api.enforce_rate_limits()
        api.random_server_errors(random_errors, seed=seed)
        sys.stdout.write(api.base_url + "\n")
        sys.stdout.flush()
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments and serve."""
    args = _parse_args(argv)
    asyncio.run(
        serve(
            args.host,
            args.port,
            args.token,
            rate_limits=args.rate_limits,
            random_errors=args.random_errors,
            seed=args.seed,
        )
    )


if __name__ == "__main__":
    main()
