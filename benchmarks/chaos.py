"""Chaos: workers killed, the database restarted and the artifact disk filled under one study; nothing lost.

    python -m benchmarks.chaos                      # 6 workers, 4 minutes of faults
    python -m benchmarks.chaos --workers 4 --minutes 2 --kills 12

A throw-away PostgreSQL server (as ``.ci/run`` starts one, ``benchmarks/_postgres.py``), K
real ``python -m study.run`` processes with stub trials that sleep a random time
(``tests/study/stub_worker.py``: no model, no training; the CPU goes to the workers' start-up
and the storage), all on one study with ``--total-trials``. For ``--minutes`` a controller
SIGKILLs a random worker every ``--kill-every`` seconds (at most ``--kills``) and starts a new
one, restarts the server twice (``pg_ctl restart -m fast``) and fills the artifact directory
once for a while (a size-limited tmpfs when this runs as root, else a simulated ``ENOSPC`` in
the workers' artifact store). Then the workers finish the study; a last worker (the same
command again, after the stale timeout) fails what the last kills left RUNNING and runs its
retries, as a user resuming the study would.

Prints one ``RESULT {...}`` line with at least ``kills``, ``db_restarts``, ``lost``, ``stuck``,
``unmarked_duplicates``, ``overshoot``, ``retried``, ``finished``, and a table. Figures:
benchmarks/RESULTS.md (## chaos). Loopback only: the server listens on a Unix socket.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import _common
from benchmarks._postgres import ThrowawayPostgres

ROOT = Path(__file__).resolve().parent.parent
STUB_DIR = ROOT / "tests" / "study"  # stub_worker.py: python -m study.run with stub trials
STUDY = "chaos"
DISK_MIB = 2  # the artifact tmpfs: small, so that filling it is cheap
DISK_FULL_SECONDS = 15


@dataclass
class Worker:
    proc: subprocess.Popen
    index: int
    started: float = field(default_factory=time.monotonic)


def parse_args() -> object:
    p = _common.parser(__doc__)
    p.add_argument("--workers", type=int, default=6, help="worker processes alive at any time (default 6)")
    p.add_argument("--minutes", type=float, default=4.0, help="minutes of faults (default 4)")
    p.add_argument("--kills", type=int, default=30, help="most SIGKILLs (default 30)")
    p.add_argument("--kill-every", type=float, default=7.0, metavar="SECONDS", help="seconds between kills (default 7)")
    p.add_argument("--trial-seconds", default="1:4", metavar="LOW:HIGH", help="stub trial duration range (default 1:4)")
    p.add_argument("--heartbeat", type=int, default=2, help="--heartbeat of the workers (default 2 s, grace 4 s)")
    p.add_argument("--total-trials", type=int, help="default: what the workers would run in --minutes without faults")
    p.add_argument("--seed", type=int, default=0, help="the controller's random choices")
    args = p.parse_args()
    if args.quick:
        args.workers, args.minutes, args.kills, args.kill_every = 3, 0.5, 3, 6.0
    low, _, high = args.trial_seconds.partition(":")
    args.low, args.high = float(low), float(high or low)
    if args.total_trials is None:
        args.total_trials = int(args.workers * args.minutes * 60 / ((args.low + args.high) / 2))
    return args


def write_inputs(work: Path) -> tuple[Path, Path]:
    model = work / "model"  # enough of a model directory for the command's checks; stub trials never load it
    model.mkdir()
    (model / "config.json").write_text("{}")
    data = work / "qa.jsonl"
    rows = [{"question": f"What is fact number {i} about the heart?", "answer": f"Fact {i} says it has {i % 4 + 1} parts."}
            for i in range(20)]
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return model, data


class ArtifactDisk:
    """The artifact directory and a way to fill it: a real tmpfs of DISK_MIB where mounting works."""

    def __init__(self, work: Path) -> None:
        self.path = work / "artifacts"
        self.path.mkdir()
        self.flag = work / "disk-full"  # the stub workers' simulated ENOSPC, where nothing can be mounted
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_MIB}m", "tmpfs", str(self.path)],
                                 check=False, capture_output=True)
        self.mounted = mounted.returncode == 0
        self.how = f"tmpfs of {DISK_MIB} MiB, filled" if self.mounted else "simulated ENOSPC (no mount)"

    def fill(self) -> None:
        if not self.mounted:
            self.flag.touch()
            return
        try:  # the workers' artifacts may have filled it already: then opening the filler fails too
            with open(self.path / "filler", "wb") as filler:
                while True:
                    filler.write(b"\0" * 65536)
                    filler.flush()
        except OSError:  # ENOSPC: full
            pass

    def free(self) -> None:
        self.flag.unlink(missing_ok=True)
        (self.path / "filler").unlink(missing_ok=True)

    def close(self) -> None:
        if self.mounted:
            subprocess.run(["umount", str(self.path)], check=False, capture_output=True)


class Workers:
    """Worker processes: each a real ``python -m study.run`` with stub trials, output to its own file."""

    def __init__(self, args: object, url: str, model: Path, data: Path, disk: ArtifactDisk, work: Path) -> None:
        self.work, self.started, self.alive = work, 0, []
        self.argv = [sys.executable, "-m", "stub_worker", "--space", "smoke", "--model", str(model), "--data", str(data),
                     "--storage", url, "--study-name", STUDY, "--sampler", "random", "--heartbeat", str(args.heartbeat),
                     "--trials", "100000", "--total-trials", str(args.total_trials), "--artifact-dir", str(disk.path),
                     "--no-progress"]
        self.env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(STUB_DIR), str(ROOT)]),
                    "STUB_TRIAL": f"random:{args.low}:{args.high}", "STUB_ANSWERS": "3",
                    "STUB_DISK_FULL": str(disk.flag), "OMP_NUM_THREADS": "1"}
        self.exits: Counter = Counter()  # exit codes of workers that ended by themselves

    def start(self) -> None:
        with open(self.work / f"worker-{self.started}.log", "w") as log:  # the child keeps its own descriptor
            proc = subprocess.Popen(self.argv, cwd=self.work, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.alive.append(Worker(proc, self.started))
        self.started += 1

    def reap(self) -> int:
        """Forget the workers that ended; returns how many did."""
        ended = [w for w in self.alive if w.proc.poll() is not None]
        for w in ended:
            self.exits[w.proc.returncode] += 1
        self.alive = [w for w in self.alive if w.proc.poll() is None]
        return len(ended)

    def kill_one(self, rng: random.Random) -> bool:
        if not self.alive:
            return False
        victim = rng.choice(self.alive)
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait()
        self.alive.remove(victim)
        return True

    def wait_all(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for w in list(self.alive):
            w.proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        self.reap()

    def stop_all(self) -> None:
        for w in self.alive:
            w.proc.kill()
            w.proc.wait()
        self.alive = []

    def log_lines(self, text: str) -> int:
        return sum(path.read_text(errors="replace").count(text) for path in self.work.glob("worker-*.log"))


def faults(args: object, workers: Workers, server: ThrowawayPostgres, disk: ArtifactDisk) -> dict[str, int]:
    """The chaos phase: kills and replacements, two database restarts, one full disk."""
    rng = random.Random(args.seed)
    seconds = args.minutes * 60
    restarts_at = [0.3 * seconds, 0.65 * seconds]
    fill_at, freed_at = 0.45 * seconds, 0.45 * seconds + DISK_FULL_SECONDS
    counts = {"kills": 0, "db_restarts": 0, "disk_fills": 0}
    start = time.monotonic()
    next_kill = start + args.kill_every
    for _ in range(args.workers):
        workers.start()
    while (now := time.monotonic()) - start < seconds:
        workers.reap()
        while len(workers.alive) < args.workers:  # killed or ended (a start during a restart stops with one line)
            workers.start()
        if now >= next_kill and counts["kills"] < args.kills and workers.kill_one(rng):
            counts["kills"] += 1
            workers.start()
            next_kill = now + args.kill_every
        if restarts_at and now - start >= restarts_at[0]:
            restarts_at.pop(0)
            server.restart()
            counts["db_restarts"] += 1
            _common.progress(f"chaos: {now - start:.0f} s: database restarted ({counts['kills']} kills so far)")
        if fill_at is not None and now - start >= fill_at:
            disk.fill()
            fill_at = None
            _common.progress(f"chaos: {now - start:.0f} s: artifact disk full ({disk.how})")
            counts["disk_fills"] += 1
        if fill_at is None and freed_at is not None and now - start >= freed_at:
            disk.free()
            freed_at = None
        time.sleep(0.2)
    disk.free()
    return counts


def measure(url: str, total: int) -> dict[str, object]:
    import optuna
    from optuna.trial import TrialState

    from study.core import keys
    from study.optimize.dashboard import ARTIFACT_WARNING
    from study.optimize.recovery import MAX_RETRIES
    from study.optimize.storage import counted_trials, open_storage

    study = optuna.load_study(study_name=STUDY, storage=open_storage(url, heartbeat_seconds=None))
    trials = study.get_trials(deepcopy=False)
    states = Counter(t.state.name for t in trials)
    retried_numbers = {n for t in trials for n in t.system_attrs.get("retry_history", ())}
    chains = Counter(t.system_attrs["retry_history"][0] for t in trials if t.system_attrs.get("retry_history"))
    lost = states.get("WAITING", 0)
    for t in trials:
        if t.state == TrialState.FAIL and not t.user_attrs.get(keys.FAIL_REASON):
            lost += 1  # failed with nothing saying why
        elif (t.state == TrialState.FAIL and str(t.user_attrs.get(keys.FAIL_REASON, "")).startswith("its worker")
              and t.number not in retried_numbers):
            first = t.system_attrs.get("retry_history", [t.number])[0]
            lost += chains[first] < MAX_RETRIES  # dead, not queued again, and not at its retry limit
    by_config: dict[tuple, list] = {}
    for t in sorted(trials, key=lambda t: t.number):
        by_config.setdefault(tuple(sorted(t.params.items())), []).append(t)
    unmarked = sum(keys.RETRY_OF not in t.user_attrs for same in by_config.values() for t in same[1:])
    return {
        "asked": len(trials),
        "finished": {k: states.get(k, 0) for k in ("COMPLETE", "PRUNED", "FAIL")},
        "retried": sum(keys.RETRY_OF in t.user_attrs for t in trials),
        "stuck": states.get("RUNNING", 0),
        "lost": lost,
        "unmarked_duplicates": unmarked,
        "overshoot": counted_trials(study) - total,
        "artifact_warnings": sum(ARTIFACT_WARNING in t.user_attrs for t in trials),
        "dead_worker_fails": sum(str(t.user_attrs.get(keys.FAIL_REASON, "")).startswith("its worker") for t in trials),
    }


def main() -> int:
    args = parse_args()
    work = Path(tempfile.mkdtemp(prefix="lora-chaos-"))
    disk = ArtifactDisk(work)
    started = time.perf_counter()
    try:
        with ThrowawayPostgres() as server:
            model, data = write_inputs(work)
            workers = Workers(args, server.url, model, data, disk, work)
            try:
                counts = faults(args, workers, server, disk)
                chaos_seconds = time.perf_counter() - started
                _common.progress(f"chaos: faults over ({counts['kills']} kills); the workers finish the study")
                workers.wait_all(timeout=600)  # no more faults: each stops once the study holds --total-trials
                time.sleep(2 * args.heartbeat + 1.5)  # past the grace period: what the last kills left is stale
                workers.start()  # the same command again, as a user resuming: fails those, runs their retries
                workers.wait_all(timeout=600)
            finally:
                workers.stop_all()
            figures = measure(server.url, args.total_trials)
            figures.update(counts)
            figures.update({
                "workers": args.workers, "total_trials": args.total_trials, "worker_starts": workers.started,
                "worker_restarts": workers.started - args.workers,
                "worker_exits": {str(k): v for k, v in sorted(workers.exits.items())},
                "reconnect_lines": workers.log_lines("storage: lost the database connection"),
                "given_up_while_alive": workers.log_lines("another worker gave it up"),
                "disk": disk.how, "chaos_seconds": round(chaos_seconds, 1),
                "seconds": round(time.perf_counter() - started, 1),
            })
    finally:
        disk.close()
        shutil.rmtree(work, ignore_errors=True)
    _common.report("chaos", "quick" if args.quick else "full",
                   f"{args.workers} workers, {args.minutes:g} min of faults, stub trials of {args.trial_seconds} s",
                   table(figures), figures)
    return 0


def table(f: dict[str, object]) -> str:
    done = f["finished"]
    rows = [
        ("trials asked", f["asked"]),
        ("finished: complete / pruned / fail", f"{done['COMPLETE']} / {done['PRUNED']} / {done['FAIL']}"),
        ("  of the fails: no heartbeat (killed) / of those, alive after all",
         f"{f['dead_worker_fails']} / {f['given_up_while_alive']}"),
        ("retried (retry_of)", f["retried"]),
        ("still RUNNING after the stale timeout", f["stuck"]),
        ("duplicated configurations not marked as retries", f["unmarked_duplicates"]),
        ("lost (an ask not accounted for)", f["lost"]),
        (f"overshoot of --total-trials {f['total_trials']}", f["overshoot"]),
        ("workers killed (SIGKILL) / restarts", f"{f['kills']} / {f['worker_restarts']}"),
        ("workers that ended by themselves, by exit code", f["worker_exits"]),
        ("database restarts survived (reconnect lines)", f"{f['db_restarts']} ({f['reconnect_lines']})"),
        ("artifact disk full", f"{f['disk_fills']}x, {f['disk']}: {f['artifact_warnings']} trials warned"),
        ("seconds (of faults)", f"{f['seconds']} ({f['chaos_seconds']})"),
    ]
    return _common.table(["measure", "value"], rows)


if __name__ == "__main__":
    sys.exit(main())
