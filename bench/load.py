"""Bulk loading for the benchmark: COPY into ``crm_customer`` and ``crm_vehicle`` the way pg_restore does.

The tables are truncated, their secondary indexes, unique and foreign-key constraints dropped, the
rows streamed in with ``COPY ... FROM STDIN`` (customers and vehicles on two connections at once,
so Python generates one table while PostgreSQL ingests the other), then the indexes are rebuilt
two at a time with a large ``maintenance_work_mem``, the constraints re-added (which re-validates
them) and the tables vacuumed, analysed and checkpointed, so neither autovacuum nor a checkpoint
wakes up during the timing.
"""

from __future__ import annotations

import contextlib
import io
import queue
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from psycopg2 import sql
from psycopg2.extensions import connection as Connection
from psycopg2.extensions import cursor as Cursor

from .data import CUSTOMER_COLUMNS, VEHICLE_COLUMNS, DataGenerator, check_vehicle_sample

Connect = Callable[[], Connection]

TABLES = ("crm_customer", "crm_vehicle")
CHUNK_ROWS = 50_000
BUILD_WORKERS = 2
SESSION_SETTINGS = (
    "SET maintenance_work_mem = '1GB'",
    "SET max_parallel_maintenance_workers = 0",  # the indexes are already built two at a time
    "SET synchronous_commit = off",
)


@dataclass(frozen=True)
class SecondaryDdl:
    """What is dropped before a load and rebuilt after: all but the primary keys of ``TABLES``."""

    indexes: tuple[tuple[str, str], ...]  # (name, CREATE INDEX ...), unique-constraint indexes included
    unique_constraints: tuple[tuple[str, str, str, str], ...]  # (table, constraint, index, deferrable)
    foreign_keys: tuple[tuple[str, str, str], ...]  # (table, constraint, definition)

    @classmethod
    def read(cls, cursor: Cursor) -> SecondaryDdl:
        tables = list(TABLES)
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
            " WHERE indrelid = ANY(%s::regclass[]) AND NOT indisprimary ORDER BY 1",
            [tables],
        )
        indexes = tuple(cursor.fetchall())
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, conindid::regclass::text,"
            " CASE WHEN condeferred THEN ' DEFERRABLE INITIALLY DEFERRED'"
            " WHEN condeferrable THEN ' DEFERRABLE' ELSE '' END"
            " FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) AND contype = 'u' ORDER BY 2",
            [tables],
        )
        unique_constraints = tuple(cursor.fetchall())
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = ANY(%s::regclass[]) AND contype = 'f' ORDER BY 2",
            [tables],
        )
        foreign_keys = tuple(cursor.fetchall())
        return cls(indexes, unique_constraints, foreign_keys)

    def drop(self, cursor: Cursor) -> None:
        constraints = [(table, name) for table, name, _ in self.foreign_keys]
        constraints += [(table, name) for table, name, _, _ in self.unique_constraints]
        for table, name in constraints:
            cursor.execute(
                sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                    sql.Identifier(table),
                    sql.Identifier(name),
                )
            )
        constraint_indexes = {index for _, _, index, _ in self.unique_constraints}
        for name, _ in self.indexes:
            if name not in constraint_indexes:
                cursor.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))

    def rebuild_indexes(self, connect: Connect) -> None:
        """Build every index, GIN ones first, on ``BUILD_WORKERS`` connections in parallel."""
        pending: queue.SimpleQueue[str] = queue.SimpleQueue()
        for _, definition in sorted(self.indexes, key=lambda item: "USING gin" not in item[1]):
            pending.put(definition)

        def build() -> None:
            with _session(connect) as cursor:
                while True:
                    try:
                        definition = pending.get_nowait()
                    except queue.Empty:
                        return
                    cursor.execute(definition)

        _run_concurrently([build] * BUILD_WORKERS)

    def restore_constraints(self, cursor: Cursor) -> None:
        for table, name, index, deferrable in self.unique_constraints:
            cursor.execute(
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} UNIQUE USING INDEX {}{}").format(
                    sql.Identifier(table),
                    sql.Identifier(name),
                    sql.Identifier(index),
                    sql.SQL(deferrable),
                )
            )
        for table, name, definition in self.foreign_keys:
            cursor.execute(
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                    sql.Identifier(table),
                    sql.Identifier(name),
                    sql.SQL(definition),
                )
            )


@contextlib.contextmanager
def _session(connect: Connect) -> Iterator[Cursor]:
    """A cursor on a new autocommit connection with the bulk-load settings, closed on exit."""
    connection = connect()
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            for setting in SESSION_SETTINGS:
                cursor.execute(setting)
            yield cursor
    finally:
        connection.close()


def _run_concurrently(tasks: Iterable[Callable[[], None]]) -> None:
    tasks = list(tasks)
    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        for future in [pool.submit(task) for task in tasks]:
            future.result()


class Laps:
    """Seconds per load phase, each counted from the end of the one before: ``laps("insert_s")``."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self.started = self._phase = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(now - self._phase, 2)
        self._phase = now

    def total(self) -> float:
        return round(time.perf_counter() - self.started, 2)


def restore_after_load(connect: Connect, ddl: SecondaryDdl, laps: Laps, sequences: Iterable[str]) -> None:
    """After a bulk insert: the dropped indexes rebuilt (``index_s``), the constraints restored
    (``constraints_s``) and the id sequences of the tables loaded with explicit ids moved past them."""
    ddl.rebuild_indexes(connect)
    laps("index_s")
    with _session(connect) as cursor:
        ddl.restore_constraints(cursor)
        laps("constraints_s")
        for table in sequences:
            cursor.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT coalesce(max(id), 0) + 1 FROM {}), false)"
                ).format(sql.Identifier(table)),
                [table],
            )


def vacuum_analyze(connect: Connect, tables: Iterable[str]) -> None:
    """VACUUM (ANALYZE) the tables, half of them on each of two connections at once."""
    tables = list(tables)

    def vacuum(part: list[str]) -> None:
        with _session(connect) as cursor:
            for table in part:
                cursor.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))

    _run_concurrently([lambda: vacuum(tables[0::2]), lambda: vacuum(tables[1::2])])


def _copy(connect: Connect, table: str, columns: tuple[str, ...], chunks: Iterable[str]) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, columns)),
    )
    with _session(connect) as cursor:
        cursor.execute("BEGIN")
        for chunk in chunks:
            cursor.copy_expert(statement, io.StringIO(chunk), size=1 << 20)
        cursor.execute("COMMIT")


def _checked(chunks: Iterable[str]) -> Iterable[str]:
    for index, chunk in enumerate(chunks):
        if index == 0:
            check_vehicle_sample(chunk)
        yield chunk


def load(connect: Connect, ddl: SecondaryDdl, generator: DataGenerator, count: int) -> dict[str, float]:
    """Replace all customers and vehicles with ``count`` of each; return the seconds each phase took."""
    timings: dict[str, float] = {}
    started = phase = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal phase
        now = time.perf_counter()
        timings[name] = round(now - phase, 2)
        phase = now

    with _session(connect) as cursor:
        cursor.execute("BEGIN")
        cursor.execute(
            sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                sql.SQL(", ").join(map(sql.Identifier, TABLES)),
            )
        )
        ddl.drop(cursor)
        cursor.execute("COMMIT")
    lap("truncate_s")
    customers = generator.customer_chunks(count, CHUNK_ROWS)
    vehicles = _checked(generator.vehicle_chunks(count, count, CHUNK_ROWS))
    _run_concurrently(
        [
            lambda: _copy(connect, "crm_customer", CUSTOMER_COLUMNS, customers),
            lambda: _copy(connect, "crm_vehicle", VEHICLE_COLUMNS, vehicles),
        ]
    )
    lap("copy_s")
    ddl.rebuild_indexes(connect)
    lap("index_s")
    with _session(connect) as cursor:
        ddl.restore_constraints(cursor)
        lap("constraints_s")
        for table in TABLES:
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, count])
            cursor.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))
        cursor.execute("CHECKPOINT")  # so the load's writes are not flushed while searches are timed
        lap("vacuum_analyze_checkpoint_s")
    timings["total_s"] = round(time.perf_counter() - started, 2)
    return timings
