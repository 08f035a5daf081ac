"""A private PostgreSQL server for tests that stop and start one (never the shared server on 5432).

initdb and pg_ctl from /usr/lib/postgresql/15/bin (or DALLEBOT_TEST_PG_BIN) in a fresh temporary
directory, on a free port, trust authentication on 127.0.0.1 only, fsync off. PostgreSQL refuses
to run as root, so as root it runs as the `postgres` user (runuser). Missing binaries: skipped
locally, a failure when CI is set.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

PG_BIN = Path(os.environ.get("DALLEBOT_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))


class PrivatePostgres:
    def __init__(self, directory: Path, port: int, user: str | None) -> None:
        self.directory, self.port, self._user = directory, port, user
        self.data = directory / "data"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> None:
        command = [str(PG_BIN / args[0]), *args[1:]]
        if self._user is not None:
            command = ["runuser", "-u", self._user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stdout}{done.stderr}")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.directory / "log"), "-w", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A started private server; stopped and deleted afterwards."""
    if not (PG_BIN / "initdb").is_file():
        reason = f"no PostgreSQL binaries in {PG_BIN} (set DALLEBOT_TEST_PG_BIN)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set: this test must run)")
        pytest.skip(reason)
    user = "postgres" if os.geteuid() == 0 else None
    directory = Path(tempfile.mkdtemp(prefix="dallebot-pg-"))  # short: the socket path must fit
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(directory, entry.pw_uid, entry.pw_gid)
    server = PrivatePostgres(directory, _free_port(), user)
    try:
        server._run(
            "initdb", "-D", str(server.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"
        )
        server.start()
        yield server
    finally:
        with suppress(RuntimeError, subprocess.TimeoutExpired):  # never started, or already stopped
            server.stop("immediate")
        shutil.rmtree(directory, ignore_errors=True)
