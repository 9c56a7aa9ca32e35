"""``python -m study.report``: in-process for the logic, as a subprocess for exit code and stderr."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from study.report import main

REPO = Path(__file__).resolve().parents[2]


def test_main_writes_the_report_and_prints_its_path(storage_url: str, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out" / "heart.html"
    assert main(["--study-name", "heart", "--storage", storage_url, "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert "Study heart" in out.read_text(encoding="utf-8")


def test_main_refuses_an_unknown_study_and_lists_the_real_ones(storage_url: str,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--study-name", "nope", "--storage", storage_url]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: --study-name nope")
    assert "it holds: heart)" in err  # the .pruning study is not offered


def test_main_refuses_a_missing_sqlite_file_without_creating_it(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "missing.db"
    assert main(["--study-name", "heart", "--storage", f"sqlite:///{db}"]) == 2
    assert "no such file" in capsys.readouterr().err
    assert not db.exists()


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    # From the repository root, where the relative defaults (studies/, reports/out/) live.
    return subprocess.run([sys.executable, "-m", "study.report", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_cli_exits_2_with_one_line_on_a_missing_study(storage_url: str) -> None:
    done = _run("--study-name", "nope", "--storage", storage_url)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("error: ")
    assert done.stdout == ""


@pytest.mark.slow
def test_cli_writes_the_report(storage_url: str, tmp_path: Path) -> None:
    out = tmp_path / "heart.html"
    done = _run("--study-name", "heart", "--storage", storage_url, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out) and out.is_file()


def test_main_writes_the_analyses_of_a_study_with_every_attribute(clinical_url: str, tmp_path: Path) -> None:
    out = tmp_path / "clinical.html"
    assert main(["--study-name", "clinical", "--storage", clinical_url, "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "Base model versus best trials (test split)" in page and "Clinicians&#x27; review" in page
    assert "no clinicians&#x27; review yet" not in page
