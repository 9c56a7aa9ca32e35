"""The review as a rater does it: headless Chromium on the real optuna-dashboard, served on a loopback port.

Skipped, with the reason, only where Chromium, its driver or Selenium is missing
(``make setup`` installs Selenium; ``apt-get install chromium chromium-driver``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import optuna
import pytest
from review_study import make_study

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # benchmarks/ is a folder of scripts, not an installed package

from benchmarks import _browser  # noqa: E402
from study.optimize.review_store import ratings, review_key  # noqa: E402
from study.review import main  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture()
def driver():
    pytest.importorskip("selenium", reason="selenium is not installed (the dev extra: pip install -e '.[dev]')")
    if _browser.chromium() is None:
        pytest.skip("chromium or chromedriver is missing (Debian: apt-get install chromium chromium-driver)")
    with _browser.browser() as d:
        yield d


def test_a_rater_rates_in_the_browser_resumes_and_a_second_rater_is_separate(tmp_path, qa_file, driver):
    url = f"sqlite:///{tmp_path / 's.db'}"
    make_study(url, qa_file)
    for rater in ("alice", "bob"):
        assert main(["start", "--study-name", "s", "--storage", url, "--rater", rater, "--configs", "1,2",
                     "--questions", "2"]) == 0
    alice = optuna.load_study(study_name="s.review.alice", storage=url)
    with _browser.dashboard(url) as base:
        assert _browser.items_to_rate(driver, base, alice._study_id) == list(range(6))
        _browser.open_item(driver, base, alice._study_id, 2)
        page = _browser.item_text(driver)
        entry = review_key(alice)["items"]["2"]
        assert "Answer to rate" in page and "trial" not in page.split("Answer to rate")[1].split("Set Objective")[0]
        assert entry["arm"] not in page.replace("Trial 2", "")  # the page never names the configuration
        _browser.rate_open_item(driver, base, alice._study_id, 2, ["partly correct", "yes", "too long"])
        # resuming: the list of items left no longer holds the rated one
        assert _browser.items_to_rate(driver, base, alice._study_id) == [0, 1, 3, 4, 5]

    stored = ratings(optuna.load_study(study_name="s.review.alice", storage=url), "alice")
    assert [(r.item, r.values, r.arm, r.question) for r in stored] == [
        (2, (0.5, 1.0, 1.0), entry["arm"], entry["question"])]
    assert ratings(optuna.load_study(study_name="s.review.bob", storage=url), "bob") == []
