"""A throw-away PostgreSQL server, started as ``.ci/run`` starts one, that can be restarted.

The server listens on a Unix socket in its temporary directory only (no TCP port, nothing to
collide with), with ``fsync=off``; as root it runs as the Debian user ``postgres`` (initdb
refuses root). Used by the chaos benchmark and by the tests that restart a server under a
worker: the server of ``LORA_STUDY_TEST_POSTGRES`` is shared and must not be restarted.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Self

DATABASE = "lora"


class PostgresUnavailable(RuntimeError):
    """No server programs on this machine, or the server would not start (the reason says which)."""


def server_programs() -> Path | None:
    """Debian keeps them out of PATH, in /usr/lib/postgresql/<version>/bin; else initdb on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: [int(p) for p in Path(d).parent.name.split(".")
                                                                          if p.isdigit()])
    if found and Path(found[-1], "initdb").exists():
        return Path(found[-1])
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class ThrowawayPostgres:
    """``start()``, ``restart()`` (``pg_ctl restart -m fast``), ``down()`` and ``up()``, ``stop()`` (and remove).

    ``url`` is what ``--storage`` takes.
    """

    def __init__(self) -> None:
        programs = server_programs()
        if programs is None:
            raise PostgresUnavailable("no PostgreSQL server programs (apt-get install postgresql)")
        self.bin = programs
        self.dir = Path(tempfile.mkdtemp(prefix="lora-pg-"))
        self.as_pg: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            self.as_pg = ["runuser", "-u", "postgres", "--"]
        self.url = f"postgresql://postgres@/{DATABASE}?host={self.dir}"

    def _run(self, program: str, *args: str) -> None:
        done = subprocess.run([*self.as_pg, str(self.bin / program), *args], check=False, capture_output=True,
                              text=True)
        if done.returncode != 0:
            raise PostgresUnavailable(f"{program} {' '.join(args[:2])}: {(done.stderr or done.stdout).strip()[-500:]}")

    def _pg_ctl(self, action: str, *extra: str) -> None:
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-l", str(self.dir / "server.log"), "-w", "-t", "60",
                  *extra, action)

    def start(self) -> ThrowawayPostgres:
        self._run("initdb", "-D", str(self.dir / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        # In its configuration file, so that a stopped server starts again with the same settings.
        with open(self.dir / "data" / "postgresql.conf", "a") as conf:
            conf.write(f"listen_addresses = ''\nunix_socket_directories = '{self.dir}'\nfsync = off\n"
                       "max_connections = 200\n")
        self.up()
        self._run("createdb", "-h", str(self.dir), "-U", "postgres", DATABASE)
        return self

    def restart(self) -> None:
        """Stop (``-m fast``: every session is ended) and start again; returns once it accepts connections."""
        self._pg_ctl("restart", "-m", "fast")

    def down(self) -> None:
        """Stop the server (``-m fast``) and leave it stopped until :meth:`up`."""
        self._pg_ctl("stop", "-m", "fast")

    def up(self) -> None:
        self._pg_ctl("start")

    def stop(self) -> None:
        """Stop at once, if running, and remove its files."""
        if (self.dir / "data" / "postmaster.pid").exists():
            subprocess.run([*self.as_pg, str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate",
                            "stop"], check=False, capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()
