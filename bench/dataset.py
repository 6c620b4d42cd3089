"""A realistic history at scale: customers with valid numbers, lines, two years of calls, notes.

    .venv/bin/python -m bench.dataset [--customers 1000] [--calls 5000] [--backend sqlite]

The schema comes from our migrations (``callerid.cli.database.upgrade``); rows go in with bulk
statements (``executemany`` on SQLite, ``COPY`` on PostgreSQL) with the secondary indexes dropped
during the load and rebuilt after it, exactly as the migrations defined them. The same seed and
size always give the same rows, so the other benchmarks build a dataset once and reuse it.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import phonenumbers
from sqlalchemy import create_engine, inspect, text

from callerid import numbers
from callerid.cli.database import upgrade

from . import report

LINES = [
    (1, "+12025550143", "Reservations"),
    (2, "+12025550144", "Front desk"),
    (3, "+12025550145", "Events"),
]
LINE_WEIGHTS = [70, 25, 5]
# Area codes callers come from; exchanges are checked with phonenumbers before use.
AREA_CODES = [
    201,
    202,
    203,
    206,
    212,
    213,
    214,
    215,
    216,
    217,
    224,
    225,
    248,
    267,
    301,
    303,
    305,
    310,
    312,
    313,
    314,
    315,
    317,
    323,
    347,
    404,
    407,
    408,
    412,
    415,
    425,
    469,
    503,
    510,
    512,
    602,
    617,
    646,
    702,
    713,
    718,
    720,
    773,
    786,
    813,
    818,
    832,
    847,
    917,
    949,
]
# Callers who are nobody's customer come from area codes no customer has.
STRANGER_AREA_CODES = [228, 229, 231, 234, 239, 240, 251, 252, 253, 254]
UK_MOBILE_PREFIX = "+447912"  # a valid O2 range (PITFALLS: 07700 900xxx is not valid)

FIRST = (
    "Anna James Maria Robert Linda Michael Sofia David Emma Daniel Olivia Thomas Ava Joseph Mia "
    "Charles Grace Samuel Chloe Henry Lucy Peter Nora Oliver Ella Arthur Ruth Leo Iris Hugo Zoe "
    "Omar Aisha Kenji Yuki Priya Ravi Chen Mei Luca Giulia Pierre Amelie Jonas Freya Mateo Elena"
).split()
LAST = (
    "Moors Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
    "Lopez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris "
    "Clark Lewis Robinson Walker Young Allen King Wright Scott Green Baker Adams Nelson Hill "
    "Campbell Mitchell Roberts Carter Phillips Evans Turner Torres Parker Collins Edwards Stewart "
    "Nakamura Patel Rossi Dubois Schmidt Novak Kowalski Okafor Haddad Lindqvist O'Brien"
).split()
SALUTATIONS = ["Mrs.", "Mr.", "Ms.", "Dr."]
NOTES = [
    "Prefers a window table.",
    "Allergic to nuts.",
    "Usually books for six on Fridays.",
    "Celebrated an anniversary with us last year.",
    "Asks for the quiet room.",
    "Corporate account; invoice to the office.",
    "Vegetarian.",
    "Likes to be called back on the mobile.",
]
CALL_NOTES = [
    "Booked a table for four at 8 pm.",
    "Asked about the opening hours on the holiday.",
    "Moved tomorrow's booking to 7:30.",
    "Complained about the wait last time; offered a dessert.",
    "Wants a call back about the private room.",
    "Cancelled Saturday.",
]
STAFF = ["anna", "ben", "carla", "dev", "front-desk"]
OUTCOMES = ["booking", "booking", "booking", "question", "question", "complaint", "other"]
# Twilio's final statuses and how often they end an inbound call here.
ENDINGS = [("completed", 78), ("no-answer", 12), ("canceled", 5), ("busy", 3), ("failed", 2)]
HOUR_WEIGHTS = [0, 0, 0, 0, 0, 0, 1, 2, 4, 6, 8, 10, 12, 10, 8, 8, 10, 12, 11, 8, 5, 3, 1, 0]
WEEKDAY_WEIGHTS = [8, 8, 9, 10, 14, 15, 9]  # Monday first
DAYS = 730
CHUNK = 50_000


@dataclass(frozen=True)
class Size:
    customers: int = 1000
    calls: int = 5000
    seed: int = 1

    @property
    def name(self) -> str:
        return f"c{self.customers}_k{self.calls}_s{self.seed}"


@dataclass
class Built:
    """What a build made and how long each part took."""

    size: Size
    backend: str
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    checked_numbers: int = 0
    valid_numbers: int = 0


class NumberPool:
    """Unique, valid E.164 numbers: US area codes and exchanges checked with phonenumbers, and a
    few UK mobiles; ``stranger()`` numbers come from area codes no customer has."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.taken: set[str] = set()
        self.exchanges = _valid_exchanges(AREA_CODES)
        self.stranger_exchanges = _valid_exchanges(STRANGER_AREA_CODES)

    def customer(self) -> str:
        while True:
            if self.rng.random() < 0.03:
                number = f"{UK_MOBILE_PREFIX}{self.rng.randrange(1_000_000):06d}"
            else:
                number = f"+1{self.rng.choice(self.exchanges)}{self.rng.randrange(10_000):04d}"
            if number not in self.taken:
                self.taken.add(number)
                return number

    def stranger(self) -> str:
        return f"+1{self.rng.choice(self.stranger_exchanges)}{self.rng.randrange(10_000):04d}"


def _valid_exchanges(area_codes: Sequence[int]) -> list[str]:
    """Every NPA-NXX of these area codes whose numbers phonenumbers calls valid."""
    found = []
    for npa in area_codes:
        for nxx in range(200, 1000):
            if nxx % 100 == 11 or nxx == 555:
                continue
            number = phonenumbers.PhoneNumber(
                country_code=1, national_number=npa * 10**7 + nxx * 10**4 + 1234
            )
            if phonenumbers.is_valid_number(number):
                found.append(f"{npa}{nxx}")
    return found


class Stamps:
    """Timestamps as the database stores them, formatted fast from epoch microseconds."""

    def __init__(self, suffix: str) -> None:
        self.suffix = suffix
        self.days: dict[int, str] = {}

    def __call__(self, micros: int | None) -> str | None:
        if micros is None:
            return None
        day, rest = divmod(micros, 86_400_000_000)
        seconds, fraction = divmod(rest, 1_000_000)
        hours, seconds = divmod(seconds, 3600)
        minutes, seconds = divmod(seconds, 60)
        text = self.days.get(day)
        if text is None:
            text = self.days[day] = (date(1970, 1, 1) + timedelta(days=day)).isoformat()
        return f"{text} {hours:02d}:{minutes:02d}:{seconds:02d}.{fraction:06d}{self.suffix}"


class History:
    """The rows of one dataset, generated from its seed: customers, numbers, calls, notes."""

    def __init__(self, size: Size, backend: str, now: datetime | None = None) -> None:
        self.size = size
        self.rng = random.Random(size.seed)
        self.stamp = Stamps("+00" if backend == "postgresql" else "")
        self.flag: Callable[[bool], Any] = bool if backend == "postgresql" else int
        moment = (now or datetime.now(UTC)) - timedelta(hours=1)
        self.end_day = (moment - datetime(1970, 1, 1, tzinfo=UTC)).days
        self.pool = NumberPool(self.rng)
        # Each customer's numbers (index = customer id - 1), filled by customers().
        self.numbers_of: list[tuple[str, ...]] = []
        self.shared: dict[str, list[int]] = {}
        self.note_rows: list[tuple[Any, ...]] = []

    # Customers and their numbers ----------------------------------------------------------
    def customers(self) -> Iterator[tuple[Any, ...]]:
        rng, stamp = self.rng, self.stamp
        start_us = (self.end_day - DAYS - 365) * 86_400_000_000
        span = 365 * 86_400_000_000
        for index in range(self.size.customers):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            if index and rng.random() < 0.01:
                # A household: this customer shares a number with an earlier one.
                other = rng.randrange(index)
                shared = self.numbers_of[other][0]
                self.shared.setdefault(shared, [other + 1]).append(index + 1)
                own: tuple[str, ...] = (shared,)
            elif rng.random() < 0.3:
                own = (self.pool.customer(), self.pool.customer())
            else:
                own = (self.pool.customer(),)
            self.numbers_of.append(own)
            created = stamp(start_us + rng.randrange(span))
            yield (
                index + 1,
                f"{first} {last}",
                rng.choice(SALUTATIONS) if rng.random() < 0.3 else "",
                first[:3] + "ie" if rng.random() < 0.03 else "",
                f"{first.lower()}.{last.lower()}{index}@example.com" if rng.random() < 0.6 else "",
                rng.choice(NOTES) if rng.random() < 0.2 else "",
                rng.choice(NOTES) if rng.random() < 0.1 else "",
                "regular" if rng.random() < 0.15 else "",
                self.flag(rng.random() < 0.03),
                self.flag(rng.random() < 0.005),
                _maybe_date(rng, 0.2, 1940, 2005),
                _maybe_date(rng, 0.05, 1970, 2024),
                created,
                created,
                None,
            )

    def phone_numbers(self) -> Iterator[tuple[Any, ...]]:
        row_id = 0
        created = self.stamp((self.end_day - DAYS - 1) * 86_400_000_000)
        labels = ("mobile", "home")
        for index, own in enumerate(self.numbers_of):
            for position, number in enumerate(own):
                row_id += 1
                yield (row_id, index + 1, number, labels[position] if len(own) > 1 else "", created)

    # Calls and notes ------------------------------------------------------------------------
    def calls(self) -> Iterator[tuple[Any, ...]]:
        """Two years of inbound calls, oldest first (ids follow time, as inserts would give)."""
        rng, stamp, flag = self.rng, self.stamp, self.flag
        customers = self.size.customers
        # Regulars: a few customers call often. Spread them over ids with a fixed permutation.
        step = _coprime_step(customers)
        endings = [name for name, weight in ENDINGS for _ in range(weight)]
        call_id = 0
        for day, count in self._calls_per_day():
            day_us = day * 86_400_000_000
            seconds = sorted(
                hour * 3600 + rng.randrange(3600)
                for hour in rng.choices(range(24), HOUR_WEIGHTS, k=count)
            )
            for second in seconds:
                call_id += 1
                received = day_us + second * 1_000_000 + rng.randrange(1_000_000)
                kind = rng.random()
                customer_id = matched_by = None
                if kind < 0.78 and customers:
                    customer_id = (int(customers * rng.random() ** 3) * step) % customers + 1
                    own = self.numbers_of[customer_id - 1]
                    from_number = own[0] if len(own) == 1 or rng.random() < 0.7 else own[1]
                    raw_from, caller_kind = from_number, "number"
                    matched_by = "shared" if from_number in self.shared else "number"
                elif kind < 0.95:
                    from_number = self.pool.stranger()
                    raw_from, caller_kind = from_number, "number"
                else:
                    from_number, raw_from, caller_kind = None, "anonymous", "withheld"
                status = rng.choice(endings)
                answered = status == "completed"
                ring = rng.randrange(3_000_000, 25_000_000)
                answered_at = received + ring if answered else None
                duration = rng.randrange(20, 600) if answered else None
                ended_at = (
                    answered_at + duration * 1_000_000
                    if answered_at and duration
                    else received + ring
                )
                missed = not answered
                called_back = missed and from_number is not None and rng.random() < 0.6
                shown = received + rng.randrange(150_000, 900_000) if rng.random() < 0.9 else None
                yield (
                    call_id,
                    f"CA{self.size.seed:08x}{call_id:024x}",
                    None,
                    from_number,
                    raw_from,
                    caller_kind,
                    rng.choices((1, 2, 3), LINE_WEIGHTS)[0],
                    "inbound",
                    status,
                    customer_id,
                    matched_by,
                    flag(missed),
                    rng.choice(STAFF) if answered else "",
                    rng.choice(OUTCOMES) if answered and rng.random() < 0.3 else "",
                    duration,
                    stamp(received),
                    stamp(answered_at),
                    stamp(ended_at),
                    stamp(shown),
                    stamp(ended_at + rng.randrange(600, 86_400) * 1_000_000)
                    if called_back
                    else None,
                    rng.choice(STAFF) if called_back else "",
                )
                if answered and rng.random() < 0.03:
                    self.note_rows.append(
                        (
                            len(self.note_rows) + 1,
                            call_id,
                            customer_id,
                            None,
                            rng.choice(CALL_NOTES),
                            stamp(ended_at),
                        )
                    )

    def _calls_per_day(self) -> Iterator[tuple[int, int]]:
        first = self.end_day - DAYS + 1
        weights = []
        for offset in range(DAYS):
            weekday = (first + offset + 3) % 7  # 1970-01-01 was a Thursday
            weights.append(WEEKDAY_WEIGHTS[weekday] * (0.8 + 0.4 * offset / DAYS))
        total = sum(weights)
        given = 0
        for offset, weight in enumerate(weights):
            count = round(self.size.calls * weight / total) if offset < DAYS - 1 else 0
            count = (
                self.size.calls - given
                if offset == DAYS - 1
                else min(count, self.size.calls - given)
            )
            given += count
            yield first + offset, count

    def notes(self) -> Iterator[tuple[Any, ...]]:
        yield from self.note_rows


TABLES: dict[str, tuple[str, ...]] = {
    "lines": ("id", "number", "label"),
    "customers": (
        "id", "name", "salutation", "preferred_name", "email", "notes", "preferences", "tags",
        "is_vip", "do_not_greet", "birthday", "anniversary", "created_at", "updated_at",
        "erased_at",
    ),
    "phone_numbers": ("id", "customer_id", "number", "label", "created_at"),
    "calls": (
        "id", "call_sid", "desk_call_sid", "from_number", "raw_from", "caller_kind", "line_id",
        "direction", "status", "customer_id", "matched_by", "is_missed", "answered_by", "outcome",
        "duration", "received_at", "answered_at", "ended_at", "card_shown_at", "called_back_at",
        "called_back_by",
    ),
    "notes": ("id", "call_id", "customer_id", "author_id", "body", "created_at"),
}  # fmt: skip


def _maybe_date(rng: random.Random, chance: float, first: int, last: int) -> str | None:
    if rng.random() >= chance:
        return None
    return date(rng.randint(first, last), rng.randint(1, 12), rng.randint(1, 28)).isoformat()


def _coprime_step(count: int) -> int:
    from math import gcd

    step = 7_919 if count > 7_919 else 1
    while count and gcd(step, count) != 1:
        step += 2
    return step or 1


# Loading ------------------------------------------------------------------------------------
def build(url: str, size: Size) -> Built:
    """Create the schema at ``url`` with our migrations and fill it with ``size``'s history."""
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    built = Built(size, backend)
    started = time.perf_counter()
    upgrade(url)
    built.seconds["migrate"] = time.perf_counter() - started
    history = History(size, backend)
    built.seconds["number pool"] = time.perf_counter() - started - built.seconds["migrate"]
    sources: list[tuple[str, Callable[[], Iterable[tuple[Any, ...]]]]] = [
        ("lines", lambda: LINES),
        ("customers", history.customers),
        ("phone_numbers", history.phone_numbers),
        ("calls", history.calls),
        ("notes", history.notes),
    ]
    loader = _load_postgresql if backend == "postgresql" else _load_sqlite
    loader(url, sources, built)
    built.checked_numbers, built.valid_numbers = _check_sample(history)
    built.seconds["total"] = time.perf_counter() - started
    return built


def _secondary_indexes(url: str) -> list[tuple[str, str, str]]:
    """(table, name, CREATE INDEX statement) of every non-unique index the migrations made on
    our tables; the statement comes from the models when they name it, so a partial index
    keeps its WHERE."""
    from sqlalchemy.schema import CreateIndex

    from callerid import models  # noqa: F401  (the tables, on Base.metadata)
    from callerid.db import Base

    engine = create_engine(url)
    try:
        modelled = {
            str(index.name): str(CreateIndex(index).compile(dialect=engine.dialect))
            for table in Base.metadata.sorted_tables
            for index in table.indexes
            if index.name
        }
        found = inspect(engine)
        return [
            (
                table,
                index["name"],
                modelled.get(index["name"])
                or 'CREATE INDEX "{}" ON {} ({})'.format(
                    index["name"], table, ", ".join(f'"{c}"' for c in index["column_names"])
                ),
            )
            for table in TABLES
            for index in found.get_indexes(table)
            if not index.get("unique") and index["name"]
        ]
    finally:
        engine.dispose()


def _load_sqlite(
    url: str, sources: list[tuple[str, Callable[[], Iterable[tuple[Any, ...]]]]], built: Built
) -> None:
    indexes = _secondary_indexes(url)
    connection = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        for statement in (
            "PRAGMA journal_mode=OFF",
            "PRAGMA synchronous=OFF",
            "PRAGMA cache_size=-1000000",
            "PRAGMA temp_store=MEMORY",
        ):
            connection.execute(statement)
        connection.execute("BEGIN")
        for _table, name, _columns in indexes:
            connection.execute(f'DROP INDEX "{name}"')
        for table, rows in sources:
            started = time.perf_counter()
            columns = TABLES[table]
            statement = (
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))})"
            )
            count = 0
            for chunk in _chunks(rows()):
                connection.executemany(statement, chunk)
                count += len(chunk)
            built.rows[table] = count
            built.seconds[table] = time.perf_counter() - started
        started = time.perf_counter()
        for _table, _name, statement in indexes:
            connection.execute(statement)
        connection.execute("COMMIT")
        built.seconds["indexes"] = time.perf_counter() - started
        # The app's own setting (callerid.db): WAL is a property of the file.
        connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()


def _load_postgresql(
    url: str, sources: list[tuple[str, Callable[[], Iterable[tuple[Any, ...]]]]], built: Built
) -> None:
    import psycopg

    indexes = _secondary_indexes(url)
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '1GB'")
            for _table, name, _columns in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
            for table, rows in sources:
                started = time.perf_counter()
                count = 0
                columns = ", ".join(TABLES[table])
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows():
                        copy.write_row(row)
                        count += 1
                built.rows[table] = count
                built.seconds[table] = time.perf_counter() - started
                if count:
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
            started = time.perf_counter()
            for _table, _name, statement in indexes:
                cursor.execute(statement)
            built.seconds["indexes"] = time.perf_counter() - started
        connection.commit()
        # What autovacuum would do soon after such a load in production: statistics for the
        # planner and a visibility map for index-only scans.
        started = time.perf_counter()
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE")
        built.seconds["vacuum analyze"] = time.perf_counter() - started


def _chunks(rows: Iterable[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _check_sample(history: History, count: int = 1000) -> tuple[int, int]:
    """How many of a sample of the customers' numbers our own normalisation accepts as valid."""
    rng = random.Random(history.size.seed + 1)
    everyone = history.numbers_of
    picked = [rng.choice(everyone)[0] for _ in range(min(count, len(everyone)))]
    valid = sum(1 for number in picked if numbers.normalise(number, "US").number == number)
    return len(picked), valid


# Keeping a built dataset current --------------------------------------------------------------
def catch_up(url: str) -> list[str]:
    """Add what the models have and a dataset built before the latest schema change lacks:
    tables, nullable columns and indexes, as the migration would. Returns what it added."""
    from callerid import models  # noqa: F401  (the tables, on Base.metadata)
    from callerid.db import Base

    engine = create_engine(url)
    added: list[str] = []
    try:
        found = inspect(engine)
        present = set(found.get_table_names())
        with engine.begin() as connection:
            for table in Base.metadata.sorted_tables:
                if table.name not in present:
                    table.create(connection)
                    added.append(f"table {table.name}")
                    continue
                columns = {column["name"] for column in found.get_columns(table.name)}
                for column in table.columns:
                    if column.name not in columns and column.nullable:
                        kind = column.type.compile(dialect=connection.dialect)
                        connection.exec_driver_sql(
                            f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'
                        )
                        added.append(f"column {table.name}.{column.name}")
                indexes = {index["name"] for index in found.get_indexes(table.name)}
                for index in table.indexes:
                    if index.name not in indexes:
                        index.create(connection)
                        added.append(f"index {index.name}")
            if added and connection.dialect.name == "postgresql":
                connection.exec_driver_sql("ANALYZE calls")
    finally:
        engine.dispose()
    return added


def roll_up(url: str) -> float:
    """Fill insights' rollup (``callerid.history.rollup``) for every settled day of the dataset,
    as a server that had run all along would have it; returns the seconds it took."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from callerid.db import utcnow
    from callerid.history import epoch, rollup
    from callerid.models import Call

    engine = create_engine(url)
    started = time.perf_counter()
    try:
        with Session(engine) as session:
            oldest = session.scalar(select(func.min(Call.received_at)))
            if oldest is not None:
                rollup.fill(session, *epoch.settled_days(oldest, utcnow(), utcnow()))
    finally:
        engine.dispose()
    return time.perf_counter() - started


# Reading a built dataset back ---------------------------------------------------------------
def known_numbers(url: str, count: int, seed: int = 7) -> list[str]:
    """``count`` numbers of customers picked at random (with repeats when the list is small)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            top = connection.execute(text("SELECT max(id) FROM phone_numbers")).scalar() or 0
            if not top:
                return []
            rng = random.Random(seed)
            wanted = sorted({rng.randint(1, top) for _ in range(count)})
            found: list[str] = []
            for start in range(0, len(wanted), 900):
                part = wanted[start : start + 900]
                marks = ", ".join(str(i) for i in part)
                found += connection.execute(
                    text(f"SELECT number FROM phone_numbers WHERE id IN ({marks})")
                ).scalars()
    finally:
        engine.dispose()
    rng.shuffle(found)
    while found and len(found) < count:
        found += found[: count - len(found)]
    return found[:count]


def stranger_numbers(count: int, seed: int = 11) -> list[str]:
    """Valid numbers that belong to no customer of any dataset."""
    pool = NumberPool(random.Random(seed))
    return [pool.stranger() for _ in range(count)]


# Command line -------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    from .workspace import Workspace, add_common_arguments, chosen_backends

    parser = argparse.ArgumentParser(prog="python -m bench.dataset", description=__doc__)
    add_common_arguments(parser, backends=("sqlite",))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--force", action="store_true", help="rebuild even if already built")
    args = parser.parse_args(argv)
    rows = []
    results: dict[str, Any] = {"runs": []}
    with Workspace(args.workdir) as workspace:
        for backend in chosen_backends(args):
            size = Size(args.customers, args.calls, args.seed)
            built = workspace.build(backend, size, force=args.force)
            results["runs"].append(
                {
                    "backend": backend,
                    "size": size.__dict__,
                    "rows": built.rows,
                    "seconds": {k: round(v, 2) for k, v in built.seconds.items()},
                    "numbers_checked": built.checked_numbers,
                    "numbers_valid": built.valid_numbers,
                    "bytes": workspace.size_on_disk(backend, size),
                }
            )
            rows.append(
                [
                    backend,
                    built.rows.get("customers"),
                    built.rows.get("phone_numbers"),
                    built.rows.get("calls"),
                    built.rows.get("notes"),
                    built.seconds.get("total"),
                    f"{built.valid_numbers}/{built.checked_numbers}",
                    f"{workspace.size_on_disk(backend, size) / 2**20:,.0f} MiB",
                ]
            )
    print(
        report.table(
            "dataset: bulk-loaded history (seconds include migrations and index builds)",
            ["backend", "customers", "numbers", "calls", "notes", "seconds", "valid", "size"],
            rows,
        )
    )
    report.save("dataset", results)
    return results


if __name__ == "__main__":
    main()
