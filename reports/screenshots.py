"""Screenshots of a study in optuna-dashboard, rendered by headless Chromium: how the README's are made.

    python -m reports.screenshots --storage sqlite:///studies/smoke.db --study-name smoke \\
        --artifact-dir studies/smoke-artifacts --out reports/out

Starts optuna-dashboard on a free loopback port, waits for it, and saves the study page
(``<name>-study.png``) and the page of its best fine-tuned trial (``<name>-trial.png``).
Needs Debian's ``chromium`` (``make screenshots`` installs it where it can). Nothing leaves the
machine: Chromium runs with its background networking off.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--window-size=1440,1100", "--virtual-time-budget=15000")


def _get(url: str) -> object:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            _get(url)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"error: optuna-dashboard did not answer at {url} within {seconds:.0f} s") from None
            time.sleep(0.2)


def _best_trial(detail: dict) -> int:
    """The complete fine-tuned trial best on the first objective (the base model's trial is not one)."""
    def is_base(t: dict) -> bool:
        return any(a["key"] == "reference" and a["value"].strip('"') == "base" for a in t["user_attrs"])

    done = [t for t in detail["trials"] if t["state"] == "Complete" and t.get("values") and not is_base(t)]
    if not done:
        return detail["trials"][0]["number"]
    sign = 1.0 if detail["directions"][0] == "maximize" else -1.0
    return max(done, key=lambda t: sign * float(t["values"][0]))["number"]


def shoot(chromium: str, url: str, out: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={out}", url],
                       check=True, capture_output=True, timeout=120)
    print(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m reports.screenshots", description=__doc__.split("\n\n")[0])
    p.add_argument("--storage", required=True)
    p.add_argument("--study-name", required=True)
    p.add_argument("--artifact-dir")
    p.add_argument("--out", type=Path, default=Path("reports/out"))
    args = p.parse_args(argv)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("error: chromium is not installed (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    command = [str(Path(sys.executable).with_name("optuna-dashboard")), "--host", "127.0.0.1", "--port", str(port)]
    if args.artifact_dir:
        command += ["--artifact-dir", args.artifact_dir]
    server = subprocess.Popen([*command, args.storage], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base + "/api/studies")
        studies = {s["study_name"]: s["study_id"] for s in _get(base + "/api/studies")["study_summaries"]}
        if args.study_name not in studies:
            print(f"error: --study-name {args.study_name}: no such study ({', '.join(studies)})", file=sys.stderr)
            return 2
        study_id = studies[args.study_name]
        detail = _get(f"{base}/api/studies/{study_id}")
        shoot(chromium, f"{base}/dashboard/studies/{study_id}", args.out / f"{args.study_name}-study.png")
        shoot(chromium, f"{base}/dashboard/studies/{study_id}/trials?numbers={_best_trial(detail)}",
              args.out / f"{args.study_name}-trial.png")
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
