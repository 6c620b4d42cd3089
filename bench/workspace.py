"""Where benchmarks keep their databases: built datasets (reused) and working copies (per run).

SQLite datasets are files; PostgreSQL datasets are databases in one cluster kept in the workspace
and cloned with ``CREATE DATABASE ... TEMPLATE`` for each run, so a run never changes the dataset.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import report
from .dataset import Built, Size, build
from .postgres import DURABLE, Cluster, available

BACKENDS = ("sqlite", "postgresql")


def add_common_arguments(
    parser: argparse.ArgumentParser,
    *,
    customers: int = 1000,
    calls: int = 5000,
    backends: tuple[str, ...] = ("sqlite",),
) -> None:
    parser.add_argument("--customers", type=int, default=customers, help="dataset size")
    parser.add_argument("--calls", type=int, default=calls, help="calls in the dataset's history")
    parser.add_argument(
        "--backend",
        dest="backends",
        action="append",
        choices=[*BACKENDS, "both"],
        help=f"database to run on; repeat or say 'both' (default: {', '.join(backends)})",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=report.RESULTS / "work",
        help="datasets and working copies (default: bench/results/work, kept between runs)",
    )
    parser.set_defaults(default_backends=backends)


def chosen_backends(args: argparse.Namespace) -> list[str]:
    picked = args.backends or list(args.default_backends)
    if "both" in picked:
        picked = list(BACKENDS)
    return list(dict.fromkeys(picked))


class Workspace:
    """Datasets and a PostgreSQL server for benchmarks; ``durable`` starts the server with
    commits on disk before they are acknowledged (for runs that crash it)."""

    def __init__(self, root: Path | None = None, *, durable: bool = False) -> None:
        self.durable = durable
        self.root = (root or report.RESULTS / "work").resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "datasets").mkdir(exist_ok=True)
        (self.root / "run").mkdir(exist_ok=True)
        self._cluster: Cluster | None = None
        self._temporary: Path | None = None

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._cluster is not None:
            self._cluster.stop()
            self._cluster = None
        if self._temporary is not None:
            shutil.rmtree(self._temporary, ignore_errors=True)
            self._temporary = None

    # PostgreSQL ------------------------------------------------------------------------------
    def cluster(self) -> Cluster:
        if self._cluster is None:
            if not available():
                raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
            folder = self.root / "postgres"
            if not _reachable_by_others(self.root):
                # The server runs as the postgres user, who cannot reach into a private folder
                # (pytest's tmp_path is one): use a temp folder, gone when the workspace closes.
                folder = Path(tempfile.mkdtemp(prefix="callerid-bench-pg-"))
                self._temporary = folder
            self._cluster = Cluster(folder, DURABLE if self.durable else None).start()
        return self._cluster

    # Datasets --------------------------------------------------------------------------------
    def _marker(self, backend: str, size: Size) -> Path:
        return self.root / "datasets" / f"{backend}-{size.name}.json"

    def _sqlite_file(self, size: Size) -> Path:
        return self.root / "datasets" / f"{size.name}.sqlite3"

    def build(self, backend: str, size: Size, *, force: bool = False) -> Built:
        """The dataset of ``size`` on ``backend``, built now unless already built."""
        marker = self._marker(backend, size)
        if marker.exists() and not force and self._present(backend, size):
            saved = json.loads(marker.read_text())
            if saved.get("schema") == schema_version():  # else built by an older schema: again
                return Built(size, backend, saved["rows"], saved["seconds"], *saved["numbers"])
        if backend == "sqlite":
            target = self._sqlite_file(size)
            partial = target.with_suffix(".partial")
            for path in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
                path.unlink(missing_ok=True)
            built = build(f"sqlite:///{partial}", size)
            partial.replace(target)
        else:
            cluster = self.cluster()
            partial_name, name = f"partial_{size.name}", f"ds_{size.name}"
            cluster.admin(
                f'DROP DATABASE IF EXISTS "{partial_name}" WITH (FORCE)',
                f'CREATE DATABASE "{partial_name}"',
            )
            built = build(cluster.url_for(partial_name), size)
            cluster.admin(
                f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                f'ALTER DATABASE "{partial_name}" RENAME TO "{name}"',
            )
        marker.write_text(
            json.dumps(
                {
                    "rows": built.rows,
                    "seconds": built.seconds,
                    "numbers": [built.checked_numbers, built.valid_numbers],
                    "schema": schema_version(),
                }
            )
        )
        return built

    def _present(self, backend: str, size: Size) -> bool:
        if backend == "sqlite":
            return self._sqlite_file(size).exists()
        return self.cluster().exists(f"ds_{size.name}")

    def size_on_disk(self, backend: str, size: Size) -> int:
        if backend == "sqlite":
            return self._sqlite_file(size).stat().st_size
        engine_url = self.cluster().url_for(f"ds_{size.name}")
        from sqlalchemy import create_engine, text

        engine = create_engine(engine_url)
        try:
            with engine.connect() as connection:
                size_query = text("SELECT pg_database_size(current_database())")
                return int(connection.execute(size_query).scalar_one())
        finally:
            engine.dispose()

    def copy(self, backend: str, size: Size, name: str, *, cold: bool = False) -> str:
        """A working copy of the dataset for one run, as a SQLAlchemy URL. ``cold`` pushes its
        files out of the page cache first (PostgreSQL also restarts, emptying its buffers)."""
        self.build(backend, size)
        if backend == "sqlite":
            target = self.root / "run" / f"{name}.sqlite3"
            for path in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
                path.unlink(missing_ok=True)
            shutil.copyfile(self._sqlite_file(size), target)
            if cold:
                evict([target, self._sqlite_file(size)])
            return f"sqlite:///{target}"
        cluster = self.cluster()
        url = cluster.copy_database(f"ds_{size.name}", f"run_{name}")
        if cold:
            cluster.admin("CHECKPOINT")
            cluster.stop()
            evict(cluster.data_files())
            cluster.start()
        return url

    def fresh(self, backend: str, name: str) -> str:
        """An empty database with our schema, for benchmarks that fill it themselves."""
        from callerid.cli.database import upgrade

        if backend == "sqlite":
            target = self.root / "run" / f"{name}.sqlite3"
            for path in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
                path.unlink(missing_ok=True)
            url = f"sqlite:///{target}"
            upgrade(url)
            connection = sqlite3.connect(target)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.close()
            return url
        cluster = self.cluster()
        cluster.admin(
            f'DROP DATABASE IF EXISTS "run_{name}" WITH (FORCE)', f'CREATE DATABASE "run_{name}"'
        )
        url = cluster.url_for(f"run_{name}")
        upgrade(url)
        return url

    def instance(self, name: str) -> Path:
        path = self.root / "run" / f"{name}-instance"
        path.mkdir(parents=True, exist_ok=True)
        return path


def _reachable_by_others(path: Path) -> bool:
    """True when every folder down to ``path`` lets other users through (o+x)."""
    if os.geteuid() != 0:
        return True  # the server runs as we do
    return all(folder.stat().st_mode & 0o001 for folder in [path, *path.parents])


def evict(paths: list[Path]) -> None:
    """Ask the kernel to drop these files' pages from its cache (as ~25 idle minutes would)."""
    for path in paths:
        try:
            descriptor = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            os.fsync(descriptor)
            os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(descriptor)


def run_each_backend(
    args: argparse.Namespace,
    run_backend: Callable[[argparse.Namespace, Workspace, str], dict[str, Any]],
) -> dict[str, Any]:
    """``{"size": ..., "runs": [...]}``: ``run_backend`` once per chosen backend, in one
    workspace."""
    results: dict[str, Any] = {"size": describe(args), "runs": []}
    with Workspace(args.workdir) as workspace:
        for backend in chosen_backends(args):
            results["runs"].append(run_backend(args, workspace, backend))
    return results


def describe(args: argparse.Namespace) -> dict[str, Any]:
    return {"customers": args.customers, "calls": args.calls}


def schema_version() -> str:
    """Which migrations the code has: a dataset built before a new one must be built again."""
    versions = Path(__file__).resolve().parents[1] / "callerid" / "migrations" / "versions"
    names = sorted(path.name for path in versions.glob("*.py"))
    return hashlib.sha1("\n".join(names).encode()).hexdigest()[:12]
