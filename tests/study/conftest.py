"""Storages for the tests: a real PostgreSQL server when one is given, real SQLite or journal files otherwise.

``.ci/run`` starts a throw-away PostgreSQL cluster and exports its URL as
``LORA_STUDY_TEST_POSTGRES`` (e.g. ``postgresql://postgres@/lora?host=/tmp/pg.X``); each test
that asks for it gets a fresh database of its own on that server. Without the variable, or
when the server cannot be reached, the PostgreSQL-only tests are skipped with the reason.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Callable, Iterator

import pytest

POSTGRES_ENV = "LORA_STUDY_TEST_POSTGRES"
STUB_DIR = Path(__file__).parent  # holds stub_worker.py and stubs.py
if str(STUB_DIR) not in sys.path:
    sys.path.insert(0, str(STUB_DIR))  # the tests here import stubs (pytest's importlib mode adds no path)


def _libpq(url: str) -> str:
    """The URL as libpq reads it (no SQLAlchemy driver suffix)."""
    scheme, sep, rest = url.partition("://")
    return scheme.partition("+")[0] + sep + rest


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The server URL from LORA_STUDY_TEST_POSTGRES; skips when absent or unreachable."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"{POSTGRES_ENV} is not set (.ci/run starts a throw-away PostgreSQL server)")
    try:
        import psycopg
    except ImportError:
        pytest.skip("psycopg is not installed (pip install -e '.[postgres]')")
    try:
        psycopg.connect(_libpq(url), connect_timeout=5).close()
    except psycopg.Error as exc:
        pytest.skip(f"{POSTGRES_ENV}: cannot connect ({str(exc).strip().splitlines()[0]})")
    return url


@pytest.fixture()
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database on the test server, dropped after the test."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"lora_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(postgres_server), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield make_url(postgres_server).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(_libpq(postgres_server), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _postgres_or(request: pytest.FixtureRequest) -> str | None:
    try:
        return request.getfixturevalue("postgres_url")
    except pytest.skip.Exception:
        return None


@pytest.fixture()
def rdb_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A SQL storage with heartbeats: PostgreSQL when available, else a SQLite file."""
    return _postgres_or(request) or f"sqlite:///{tmp_path / 'study.db'}"


@pytest.fixture()
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A storage several processes may write at once: PostgreSQL when available, else a journal file."""
    return _postgres_or(request) or f"journal:///{tmp_path / 'study.log'}"


@pytest.fixture()
def fake_model_dir(tmp_path: Path) -> Path:
    """Enough of a model directory for the command's checks; stub trials never load it."""
    path = tmp_path / "model"
    path.mkdir()
    (path / "config.json").write_text("{}")
    return path


@pytest.fixture()
def stub_command(tmp_path: Path, fake_model_dir: Path, qa_file: Path):
    """Start ``python -m stub_worker`` (study.run with stub trials) with the given flags and STUB_TRIAL mode."""

    def start(*flags: str, trial: str = "ok", log: Path | None = None,
              signals: Callable[[], None] | None = None) -> subprocess.Popen:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(STUB_DIR), os.environ.get("PYTHONPATH", "")]),
               "STUB_TRIAL": trial}
        if log is not None:
            env["STUB_LOG"] = str(log)
        argv = [sys.executable, "-m", "stub_worker", "--space", "smoke", "--model", str(fake_model_dir),
                "--data", str(qa_file), "--no-progress", *flags]
        return subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=signals or as_in_a_terminal)

    return start


def as_in_a_terminal() -> None:
    """SIGINT as a command typed at a terminal has it: the tests may run as a background job
    (CI, ``nohup``), whose children inherit SIGINT ignored, and Ctrl-C would then be lost."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def as_a_background_job() -> None:
    """SIGINT ignored, as a shell starts a background job (``command &`` in a script)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.fixture()
def wait_for():
    """``wait_for(condition, timeout)``: poll until ``condition()`` is true; fail the test after ``timeout`` s."""

    def wait(condition, timeout: float = 120.0, every: float = 0.2) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout} s waiting for {condition.__doc__ or condition.__name__}")
            time.sleep(every)

    return wait


@pytest.fixture(scope="session")
def draw_lora_b():
    """Draws an adapter's LoRA B matrices, which start at zero, so that the adapter changes the model."""

    def draw(model, std: float = 0.5):
        import torch

        for name, p in model.named_parameters():
            if "lora_B" in name:
                torch.nn.init.normal_(p, std=std)
        return model

    return draw
