"""Helpers for tests that run real child processes, and a tiny client of the embedded servers.

Run as ``python -m tests.dms.processes`` (from the repository root) this module is the
embedded-server client the embedded tests start twice: it resolves the embedded PostgreSQL
and Redis exactly like the DMS does (``dms.embedded``), prints one JSON line describing them
(URLs, postmaster pid, redis-server pid), then answers JSON requests, one per stdin line:

    {"op": "sql", "query": "...", "database": "dms"}   -> {"ok": true, "rows": [[...], ...]}
    {"op": "redis", "args": ["SET", "k", "v"]}          -> {"ok": true, "result": ...}

End of stdin makes it exit normally, so its atexit handlers (the embedded servers' "last one
out stops the server") run just as they do when ``make run`` stops. The JSON protocol goes to
the original stdout; anything else the process prints is sent to stderr so it cannot corrupt it.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Variables that would make a child use some other server than the one a test means it to use.
SERVER_VARIABLES = ("DATABASE_URL", "REDIS_URL", "TEST_REDIS_URL", "DMS_DATA_DIR")


def child_environment(**overrides: str) -> dict[str, str]:
    """This process's environment without any server selection, plus ``overrides``."""
    environment = {key: value for key, value in os.environ.items() if key not in SERVER_VARIABLES}
    environment["PYTHONUNBUFFERED"] = "1"
    environment.update(overrides)
    return environment


def stop(process: subprocess.Popen, timeout: float = 20, sig: int = signal.SIGTERM) -> int:
    """Ask ``process`` to stop with ``sig``, kill it if it does not within ``timeout``; return its exit code."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    return process.returncode


def pid_running(pid: int | None) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting to be reaped does not count)."""
    import psutil

    if not pid:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_until(predicate, timeout: float, interval: float = 0.1) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return bool(predicate())
        time.sleep(interval)


class EmbeddedClient:
    """One ``python -m tests.dms.processes`` child, driven line by line from the test."""

    def __init__(self, name: str, data_dir: Path):
        self.name = name
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - lives as long as the child; see kill()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.dms.processes"],
            cwd=ROOT,
            env=child_environment(DMS_DATA_DIR=str(data_dir)),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read_stdout, daemon=True).start()
        self.hello: dict | None = None

    def _read_stdout(self) -> None:
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read()

    def describe(self) -> str:
        return f"{self.name} (pid {self.process.pid}, exit {self.process.poll()}) stderr:\n{self.stderr()}"

    def _next_message(self, timeout: float) -> dict:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no answer within {timeout}s from {self.describe()}") from None
        if line is None:
            raise AssertionError(f"{self.name} closed its stdout; {self.describe()}")
        return json.loads(line)

    def wait_ready(self, timeout: float = 120) -> dict:
        """The first line: which servers this process resolved."""
        if self.hello is None:
            self.hello = self._next_message(timeout)
        return self.hello

    def request(self, timeout: float = 30, **message) -> dict:
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()
        answer = self._next_message(timeout)
        assert answer.get("ok"), f"{self.name} failed {message}: {answer.get('error')}\n{self.describe()}"
        return answer

    def sql(self, query: str, database: str = "dms") -> list[list]:
        return self.request(op="sql", query=query, database=database)["rows"]

    def redis(self, *args: str):
        return self.request(op="redis", args=list(args))["result"]

    def close(self, timeout: float = 60) -> int:
        """End of stdin: the client exits normally, running its atexit handlers."""
        if self.process.poll() is None:
            with contextlib.suppress(BrokenPipeError, OSError, ValueError):
                self.process.stdin.close()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                stop(self.process)
        return self.process.returncode

    def kill(self) -> str:
        """Teardown of last resort: never leave the child behind. Returns everything it wrote to stderr."""
        if self.process.poll() is None:
            self.close(timeout=30)
        output = self.stderr()
        self._stderr.close()
        return output


# --- The child side ------------------------------------------------------------------------------


def _client_main() -> None:
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints must not corrupt the protocol

    import psycopg2
    import redis

    from dms import embedded

    database_url = embedded.postgres_url()
    redis_url = embedded.redis_url()
    server = embedded.postgres_server()
    redis_client = redis.Redis.from_url(redis_url, decode_responses=True)

    def say(message: dict) -> None:
        protocol.write(json.dumps(message, default=str) + "\n")

    say(
        {
            "pid": os.getpid(),
            "database_url": database_url,
            "redis_url": redis_url,
            "postmaster_pid": server.get_pid(),
            "redis_pid": int(redis_client.info("server")["process_id"]),
        }
    )
    for line in sys.stdin:
        if not line.strip():
            continue
        message = json.loads(line)
        try:
            if message["op"] == "sql":
                connection = psycopg2.connect(embedded.postgres_url(message.get("database", "dms")))
                try:
                    connection.autocommit = True
                    with connection.cursor() as cursor:
                        cursor.execute(message["query"])
                        rows = cursor.fetchall() if cursor.description else []
                finally:
                    connection.close()
                say({"ok": True, "rows": [list(row) for row in rows]})
            elif message["op"] == "redis":
                say({"ok": True, "result": redis_client.execute_command(*message["args"])})
            else:
                say({"ok": False, "error": f"unknown op {message['op']!r}"})
        except Exception as error:  # report it to the test rather than dying mid-protocol
            say({"ok": False, "error": f"{type(error).__name__}: {error}"})
    redis_client.close()


if __name__ == "__main__":
    _client_main()
