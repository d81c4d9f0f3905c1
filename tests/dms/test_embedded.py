"""The embedded servers: with no DATABASE_URL or REDIS_URL the DMS runs its own PostgreSQL and Redis.

What a user relies on when they type ``make run`` on a fresh machine: the servers appear from an
empty data directory, every DMS process (web, worker, beat, a management command) shares the same
two servers instead of starting its own, the servers keep running while any of those processes
is alive, and they stop when the last one exits, leaving nothing running behind.

Each test runs real client processes (``python -m tests.dms.processes``, which resolves the
servers through ``dms.embedded`` exactly like the settings do) against a brand-new data directory
of its own, so the servers the rest of the suite uses are never touched. No Django database.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
import pytest
import redis

from dms import embedded

from .processes import EmbeddedClient, pid_running, wait_until

pytestmark = pytest.mark.slow

STOP_TIMEOUT = 15  # seconds the servers may take to go away once the last process has exited


def _pid_from(path: Path) -> int | None:
    with contextlib.suppress(FileNotFoundError, ValueError, IndexError):
        return int(path.read_text().split()[0])
    return None


@pytest.fixture
def data_dir():
    """A data directory that does not exist yet; afterwards, nothing of it is left running or on disk.

    It lives next to the suite's own servers (``.data/`` unless DMS_DATA_DIR says otherwise) rather
    than under pytest's tmp_path: pgserver runs postgres as the ``pgserver`` user when run as root and
    widens the permissions of every parent directory, which pytest's private 0700 temp root resets.
    """
    path = embedded.data_dir() / f"test-embedded-{uuid.uuid4().hex[:12]}"
    assert not path.exists()
    yield path
    # Only if a test failed midway: stop what this directory's servers left running, by their own pid.
    for pid_file, sig in (
        (path / "pg" / "postmaster.pid", signal.SIGINT),
        (path / "redis" / "redis.pid", signal.SIGTERM),
    ):
        pid = _pid_from(pid_file)
        if pid_running(pid):
            os.kill(pid, sig)
            if not wait_until(lambda pid=pid: not pid_running(pid), 10):
                os.kill(pid, signal.SIGKILL)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def start_client(data_dir):
    """Start a client process on ``data_dir``; every one is closed at teardown, whatever happened."""
    clients: list[EmbeddedClient] = []

    def start(name: str) -> EmbeddedClient:
        client = EmbeddedClient(name, data_dir)
        clients.append(client)
        return client

    yield start
    for client in clients:
        output = client.kill()
        print(f"--- {client.name} stderr ---\n{output}")  # pytest shows it only if the test failed


def _closes_cleanly(client: EmbeddedClient) -> None:
    stderr_before_close = client.stderr()
    assert client.close() == 0, client.describe()
    stderr = client.stderr()
    assert "Traceback" not in stderr, f"{client.name} failed while exiting:\n{stderr[len(stderr_before_close) :]}"


def _redis_answers(redis_url: str) -> bool:
    try:
        return bool(redis.Redis(unix_socket_path=urlsplit(redis_url).path, socket_timeout=2).ping())
    except (redis.RedisError, OSError):
        return False


def _postgres_answers(database_url: str) -> bool:
    try:
        connection = psycopg2.connect(database_url, connect_timeout=2)
    except psycopg2.OperationalError:
        return False
    connection.close()
    return True


def _assert_servers_stopped(hello: dict) -> None:
    assert wait_until(lambda: not pid_running(hello["postmaster_pid"]), STOP_TIMEOUT), (
        f"PostgreSQL (pid {hello['postmaster_pid']}) still running after its last process exited"
    )
    assert wait_until(lambda: not pid_running(hello["redis_pid"]), STOP_TIMEOUT), (
        f"redis-server (pid {hello['redis_pid']}) still running after its last process exited"
    )
    assert not _postgres_answers(hello["database_url"])
    assert not _redis_answers(hello["redis_url"])


def test_servers_start_from_nothing_are_shared_and_stop_with_the_last_process(data_dir, start_client):
    """Guarantee: a fresh checkout needs no database server, every DMS process shares one PostgreSQL and
    one Redis, they outlive any single process, and stopping the last process stops them.

    A starts both servers from an empty directory; B, started later, joins them (same postmaster and
    redis-server pids) and sees A's row and key. A exits: B keeps working on the same servers. B exits:
    both servers are gone within seconds and nothing answers on their sockets.
    """
    a = start_client("A")
    first = a.wait_ready()
    assert (data_dir / "pg" / "PG_VERSION").is_file(), "PostgreSQL was not initialised in the data directory"
    assert first["database_url"].startswith("postgresql://") and first["database_url"].endswith("/dms")
    assert urlsplit(first["redis_url"]).path.startswith(str(data_dir)), first["redis_url"]
    assert pid_running(first["postmaster_pid"]) and pid_running(first["redis_pid"])
    assert a.sql("SELECT 1") == [[1]]
    assert a.redis("PING") is True
    a.sql("CREATE TABLE handoff (note text)")
    a.sql("INSERT INTO handoff VALUES ('written by A')")
    assert a.redis("SET", "handoff", "written by A") is True

    b = start_client("B")
    second = b.wait_ready()
    assert second["pid"] != first["pid"]
    assert second["postmaster_pid"] == first["postmaster_pid"], "B started a second PostgreSQL"
    assert second["redis_pid"] == first["redis_pid"], "B started a second redis-server"
    assert (second["database_url"], second["redis_url"]) == (first["database_url"], first["redis_url"])
    assert b.sql("SELECT 1") == [[1]]
    assert b.redis("PING") is True
    assert b.sql("SELECT note FROM handoff") == [["written by A"]]
    assert b.redis("GET", "handoff") == "written by A"

    _closes_cleanly(a)
    assert pid_running(first["postmaster_pid"]), "PostgreSQL stopped although B still uses it"
    assert pid_running(first["redis_pid"]), "redis-server stopped although B still uses it"
    b.sql("INSERT INTO handoff VALUES ('written by B after A left')")  # a new connection, on the same server
    assert b.sql("SELECT count(*) FROM handoff") == [[2]]
    assert b.redis("GET", "handoff") == "written by A"

    _closes_cleanly(b)
    _assert_servers_stopped(first)


def test_processes_starting_together_share_one_server_pair(start_client):
    """Guarantee: DMS processes that start at the same moment on a fresh machine (web, worker and beat of
    ``make run``) still end up on one PostgreSQL and one Redis, and the pair stops when both exit."""
    a, b = start_client("A"), start_client("B")
    first, second = a.wait_ready(), b.wait_ready()
    assert second["postmaster_pid"] == first["postmaster_pid"]
    assert second["redis_pid"] == first["redis_pid"]
    assert a.sql("SELECT 1") == b.sql("SELECT 1") == [[1]]
    _closes_cleanly(a)
    assert b.redis("PING") is True
    assert b.sql("SELECT 1") == [[1]]
    _closes_cleanly(b)
    _assert_servers_stopped(first)


def test_embedded_postgres_ships_pg_trgm(start_client):
    """Guarantee: the fuzzy customer/vehicle search works on the embedded server, because its PostgreSQL
    provides the pg_trgm extension: it can be created in a brand-new database and its functions work."""
    client = start_client("A")
    hello = client.wait_ready()
    assert client.sql("SELECT count(*) FROM pg_database WHERE datname = 'trgm_fresh'", database="postgres") == [[0]]
    client.sql("CREATE EXTENSION IF NOT EXISTS pg_trgm", database="trgm_fresh")  # creates the database first
    assert client.sql("SELECT extversion FROM pg_extension WHERE extname = 'pg_trgm'", database="trgm_fresh") != []
    assert client.sql("SELECT show_trgm('abc')", database="trgm_fresh") == [[["  a", " ab", "abc", "bc "]]]
    assert client.sql("SELECT 'Wang Xiaoming' % 'Wang Xiaomin'", database="trgm_fresh") == [[True]]
    _closes_cleanly(client)
    _assert_servers_stopped(hello)
