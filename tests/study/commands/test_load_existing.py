"""Every command that reads a study loads it through ``load_existing_study``: a mistyped study name,
SQLite path or journal path stops with one line and exit code 2, and leaves no file, directory or
table behind (the file system is compared before and after)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable

import optuna
import pytest

from study import confirm, export, human_eval, report, review
from study.optimize.storage import load_existing_study

# Each command's argv around --study-name and --storage.
COMMANDS: dict[str, tuple[Callable[[list[str]], int], list[str], list[str]]] = {
    "export": (export.main, [], ["--no-test"]),
    "confirm": (confirm.main, [], []),
    "report": (report.main, [], []),
    "human_eval export": (human_eval.main, ["export"], ["--rater", "alice"]),
    "human_eval import": (human_eval.main, ["import"], ["--rater", "alice", "--sheet", "sheet.csv"]),
    "review start": (review.main, ["start"], ["--rater", "alice"]),
    "review results": (review.main, ["results"], []),
}


def snapshot(root: Path) -> dict[str, str]:
    """Every file and folder under ``root`` with a hash of its bytes."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(root.rglob("*"))}


def run(name: str, study_name: str, storage: str | None, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    main, before, after = COMMANDS[name]
    argv = [*before, "--study-name", study_name, *(["--storage", storage] if storage else []), *after]
    code = main(argv)
    return code, capsys.readouterr().err.strip().splitlines()


@pytest.fixture()
def stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite file holding study 'heart' (and its pruning study); the tests run in its folder."""
    url = f"sqlite:///{tmp_path / 'heart.db'}"
    optuna.create_study(study_name="heart", storage=url, directions=["maximize", "minimize"])
    optuna.create_study(study_name="heart.pruning", storage=url)
    monkeypatch.chdir(tmp_path)  # so that anything a command writes to a relative default would show
    return url


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_mistyped_study_name_stops_with_one_line_and_changes_nothing(command, stored, tmp_path, capsys):
    before = snapshot(tmp_path)
    code, err = run(command, "hart", stored, capsys)
    assert code == 2
    assert len(err) == 1 and err[0].startswith("error: --study-name hart: no such study in ")
    assert "(it holds: heart)" in err[0]  # the pruning study is not offered
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_mistyped_sqlite_path_stops_with_one_line_and_creates_nothing(command, stored, tmp_path, capsys):
    before = snapshot(tmp_path)
    missing = tmp_path / "some" / "new" / "dir" / "x.db"
    code, err = run(command, "heart", f"sqlite:///{missing}", capsys)
    assert code == 2
    assert len(err) == 1 and f"no such file {missing}" in err[0], err
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("command", list(COMMANDS))
def test_the_default_storage_of_a_study_never_run_is_not_created(command, stored, tmp_path, capsys):
    before = snapshot(tmp_path)
    code, err = run(command, "nosuch", None, capsys)
    assert code == 2
    assert len(err) == 1 and "no such file studies/nosuch.db" in err[0], err
    assert snapshot(tmp_path) == before  # no studies/ folder


def test_a_missing_journal_file_is_not_created(tmp_path, capsys):
    code, err = run("report", "heart", f"journal:///{tmp_path / 'logs' / 'heart.log'}", capsys)
    assert code == 2 and len(err) == 1 and "no such file" in err[0]
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_holds_no_optuna_study_is_left_as_it_is(tmp_path, capsys):
    other = tmp_path / "notes.db"
    other.write_bytes(b"")  # an empty SQLite database: opening it with Optuna would create its tables
    code, err = run("export", "heart", f"sqlite:///{other}", capsys)
    assert code == 2 and len(err) == 1 and "holds no Optuna study" in err[0], err
    assert other.read_bytes() == b""


def test_an_empty_postgresql_database_gets_no_optuna_tables(postgres_url, capsys):
    from sqlalchemy import create_engine, inspect

    from study.optimize.storage import _with_driver

    code, err = run("report", "heart", postgres_url, capsys)
    assert code == 2 and len(err) == 1 and "holds no Optuna study" in err[0], err
    engine = create_engine(_with_driver(postgres_url))
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_an_existing_study_loads_with_its_storage(stored):
    study, storage = load_existing_study(stored, "heart")
    assert study.study_name == "heart" and len(study.directions) == 2
    assert optuna.load_study(study_name="heart.pruning", storage=storage).direction.name == "MINIMIZE"
