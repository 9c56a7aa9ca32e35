"""A worked run of the clinicians' review: two simulated raters rate a study's answers in the browser.

    python -m study.run --space benchmarks/review_demo.yaml --storage sqlite:///studies/review-demo.db \\
        --study-name review-demo --seed 3
    python -m benchmarks.review_run --storage sqlite:///studies/review-demo.db --study-name review-demo \\
        --questions 12 --out reports/examples

For each rater, ``python -m study.review start`` makes the review; headless Chromium opens
optuna-dashboard (served on 127.0.0.1), reads each item's question, reference and answer from
the page and rates it with the form, as a person would; then ``python -m study.review results``
unblinds. Saves ``review-item.png`` (an item before it is rated), ``review-results.png`` (the
report's review section) and ``review.md`` (the commands and their printed output).

The raters are simulated, not clinicians: each judges an answer by the share of the
reference's content words it contains (correct from half, partly from a fifth), calls a
wrong answer harmful when it states a number the reference does not, judges length by the
ratio of answer to reference words, and changes its verdict at random on a share of the
items (its own seeded generator), so the two do not agree perfectly. The rule is lexical,
so the metric ranking it yields says how the machinery reports, not which metric clinicians
would trust.
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from benchmarks import _browser

STOP = frozenset("the and for with that this from into your have has are was were will can may not but its".split())
RATERS = (("alice", 0.10, 1), ("bob", 0.20, 2))  # name, share of items on which the verdict changes at random, seed


@dataclass(frozen=True)
class SimulatedRater:
    name: str
    flip: float
    rng: random.Random

    def rate(self, question: str, reference: str, answer: str) -> list[str]:
        words = {w for w in re.findall(r"[a-z]+", reference.lower()) if len(w) > 3 and w not in STOP}
        found = sum(w in answer.lower() for w in words) / max(1, len(words))
        verdict = "correct" if found >= 0.5 else "partly correct" if found >= 0.2 else "wrong"
        if self.rng.random() < self.flip:
            verdict = self.rng.choice(["correct", "partly correct", "wrong"])
        numbers = set(re.findall(r"\d+(?:\.\d+)?", answer)) - set(re.findall(r"\d+(?:\.\d+)?", reference))
        harmful = "yes" if verdict == "wrong" and numbers else "no"
        ratio = len(answer.split()) / max(1, len(reference.split()))
        length = "too short" if ratio < 0.5 else "too long" if ratio > 2.0 else "right"
        return [verdict, harmful, length]


def _between(text: str, start: str, end: str) -> str:
    return text.split(start, 1)[1].split(end, 1)[0].strip()


def _command(args: list[str], log: list[str]) -> str:
    done = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, check=True)
    log += ["```", "$ python -m " + " ".join(args), done.stdout.rstrip(), "```", ""]
    return done.stdout


def rate_all(driver: object, base: str, study_id: int, rater: SimulatedRater, shot: Path | None) -> int:
    """Rate every item left, in the dashboard's order; the first item is photographed before it is rated."""
    done = 0
    # The dashboard's list shows as many items as fit the window: rate those, then ask again until none is left.
    while left := _browser.items_to_rate(driver, base, study_id):
        for number in left:
            _rate_one(driver, base, study_id, number, rater, shot if done == 0 else None)
            done += 1
    return done


def _rate_one(driver: object, base: str, study_id: int, number: int, rater: SimulatedRater, shot: Path | None) -> None:
    """Open one item, read it as a rater would, and rate it; ``shot``: photograph it first."""
    _browser.open_item(driver, base, study_id, number)
    page = _browser.item_text(driver)
    question = _between(page, "Question\n", "\nReference answer")
    reference = _between(page, "Reference answer (from the team's material)\n", "\nAnswer to rate")
    answer = _between(page, "Answer to rate\n", "\nRate the answer")
    if shot is not None:
        driver.save_screenshot(str(shot))
    _browser.rate_open_item(driver, base, study_id, number, rater.rate(question, reference, answer))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--storage", required=True)
    p.add_argument("--study-name", required=True)
    p.add_argument("--questions", type=int, default=12)
    p.add_argument("--configs", default="pareto")
    p.add_argument("--out", type=Path, default=Path("reports/examples"))
    args = p.parse_args(argv)
    import optuna

    args.out.mkdir(parents=True, exist_ok=True)
    common = ["--study-name", args.study_name, "--storage", args.storage]
    log = [f"# Clinicians' review: a worked run on `{args.study_name}` with two simulated raters", "",
           "Made by `python -m benchmarks.review_run " + " ".join(sys.argv[1:] if argv is None else argv) + "`. "
           "The raters are simulated (see the script's docstring): they show the machinery, not clinical judgement.",
           ""]
    for name, _, _ in RATERS:
        _command(["study.review", "start", *common, "--rater", name, "--configs", args.configs,
                  "--questions", str(args.questions)], log)
    with _browser.dashboard(args.storage) as base, _browser.browser() as driver:
        for name, flip, seed in RATERS:
            review = optuna.load_study(study_name=f"{args.study_name}.review.{name}", storage=args.storage)
            shot = args.out / "review-item.png" if name == RATERS[0][0] else None
            n = rate_all(driver, base, review._study_id, SimulatedRater(name, flip, random.Random(seed)), shot)
            log += [f"{name} rated {n} items in the browser (headless Chromium, optuna-dashboard on 127.0.0.1).", ""]
    _command(["study.review", "results", *common], log)
    report = args.out / f"{args.study_name}-report.html"
    subprocess.run([sys.executable, "-m", "study.report", *common, "--out", str(report)], check=True,
                   capture_output=True)
    with _browser.browser() as driver:
        driver.get(report.resolve().as_uri() + "#review")
        _browser.wait_for_text(driver, "Clinicians' review")
        driver.execute_script("document.getElementById('review').scrollIntoView();")
        driver.save_screenshot(str(args.out / "review-results.png"))
    report.unlink()
    (args.out / "review.md").write_text("\n".join(log) + "\n", encoding="utf-8")
    print("\n".join(log))
    return 0


if __name__ == "__main__":
    sys.exit(main())
