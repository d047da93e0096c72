"""One process per SQLite database: an exclusive lock on a file next to it.

SQLite is the single-process mode (PostgreSQL is the multi-process one): two bots on one
SQLite file would both poll Telegram and both deliver reminders, and SQLite has no
``SKIP LOCKED`` to share the work. The first process takes an exclusive, non-blocking
``flock`` on ``<database>.lock``; a second one fails at once with
:class:`DatabaseInUseError`, one clear line. The kernel drops the lock when the process
dies, however it dies (``kill -9`` included), so a stale lock file never blocks a restart.
Because the holder of the lock is the only process, it may take back every reminder lease
at start-up (see :func:`scheduler.dispatcher.release_all_leases`).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from sqlalchemy.engine import make_url

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no guard, see lock_path_for
    fcntl = None  # type: ignore[assignment]


class DatabaseInUseError(RuntimeError):
    """Another LegCare process already runs on this SQLite database."""

    def __init__(self, database: Path, lock_file: Path) -> None:
        super().__init__(str(database))
        self.database = database
        self.lock_file = lock_file

    def __str__(self) -> str:
        return (
            f"another LegCare process is already running on {self.database} "
            f"(it holds {self.lock_file}); SQLite supports one process, "
            "use PostgreSQL to run several"
        )


class SingleProcessLock:
    """A held lock file; :meth:`release` (or process exit) lets the next process in."""

    def __init__(self, path: Path, descriptor: int) -> None:
        self.path = path
        self._descriptor: int | None = descriptor

    def release(self) -> None:
        """Drop the lock (idempotent)."""
        if self._descriptor is not None:
            os.close(self._descriptor)  # closing drops the flock
            self._descriptor = None


def lock_path_for(database_url: str) -> Path | None:
    """``<file>.lock`` for a file-backed SQLite URL; None for PostgreSQL or in-memory."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or fcntl is None:
        return None
    database = url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return Path(database).resolve().with_name(Path(database).name + ".lock")


def acquire(database_url: str) -> SingleProcessLock | None:
    """Take the lock for this database (blocking I/O: call it in a thread).

    Returns None when the backend needs no lock; raises :class:`DatabaseInUseError` when
    another process holds it.
    """
    path = lock_path_for(database_url)
    if path is None or fcntl is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise DatabaseInUseError(path.with_name(path.name.removesuffix(".lock")), path) from None
    os.ftruncate(descriptor, 0)
    os.write(descriptor, f"{os.getpid()}\n".encode())
    return SingleProcessLock(path, descriptor)


async def acquire_async(database_url: str) -> SingleProcessLock | None:
    """:func:`acquire` off the event loop."""
    return await asyncio.to_thread(acquire, database_url)
