"""The chaos benchmark, run small: real workers SIGKILLed, a real server restarted twice, a full disk; nothing lost.

Not a timed assert: the figures checked are counts (lost, stuck, unmarked duplicates), which must be 0
however fast the machine is. Needs the PostgreSQL server programs (``.ci/run`` installs them).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks._common import RESULT_PREFIX
from benchmarks._postgres import server_programs

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.mark.skipif(server_programs() is None, reason="no PostgreSQL server programs (.ci/run installs them)")
def test_a_quick_chaos_run_loses_nothing_and_leaves_nothing_running():
    proc = subprocess.run([sys.executable, "-m", "benchmarks.chaos", "--quick"], cwd=ROOT, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    line = next(line for line in proc.stdout.splitlines() if line.startswith(RESULT_PREFIX))
    figures = json.loads(line.removeprefix(RESULT_PREFIX))
    assert figures["kills"] >= 1 and figures["db_restarts"] == 2 and figures["disk_fills"] == 1
    assert (figures["lost"], figures["stuck"], figures["unmarked_duplicates"]) == (0, 0, 0), figures
    assert 0 <= figures["overshoot"] <= figures["workers"] - 1  # the documented bound, K - 1
