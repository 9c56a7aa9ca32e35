"""A rater in a real browser: optuna-dashboard served on a loopback port, driven by headless Chromium.

Used by the review's browser test and by ``benchmarks/review_run.py`` (two scripted raters).
Needs Debian's ``chromium`` and ``chromium-driver`` and Selenium (the dev extra). The server is
optuna-dashboard's own WSGI app in a thread of this process, bound to 127.0.0.1 on a port the
system picks; Chromium runs with its background networking off, so nothing leaves the machine.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
import urllib.request
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from typing import Any, Iterator, Sequence
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

WAIT_SECONDS = 60  # the longest a page may take to show what is expected (a cold start on a busy machine)
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1400,1000")


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:  # the page's requests are not worth a line each
        pass


def chromium() -> tuple[str, str] | None:
    """Paths of Chromium and its driver, or None where either is missing."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@contextmanager
def dashboard(storage_url: str) -> Iterator[str]:
    """optuna-dashboard on 127.0.0.1 and a free port; yields its base URL and stops it afterwards."""
    import optuna_dashboard

    server = make_server("127.0.0.1", 0, optuna_dashboard.wsgi(storage_url), server_class=_Server,
                         handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def browser() -> Iterator[Any]:
    """A headless Chromium driven by Selenium; quits afterwards."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    paths = chromium()
    if paths is None:
        raise RuntimeError("chromium and chromedriver are needed (Debian: apt-get install chromium chromium-driver)")
    options = Options()
    options.binary_location = paths[0]
    for flag in FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(paths[1]))
    try:
        yield driver
    finally:
        driver.quit()


def wait_for_text(driver: Any, text: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, WAIT_SECONDS).until(lambda d: text in _body(d))


def _body(driver: Any) -> str:
    return driver.find_element("tag name", "body").text


def _states(base: str, study_id: int) -> dict[int, str]:
    """Item number -> state as the dashboard's server reports it (it caches a study's trials for a second or two)."""
    with urllib.request.urlopen(f"{base}/api/studies/{study_id}", timeout=WAIT_SECONDS) as response:
        return {t["number"]: t["state"] for t in json.loads(response.read())["trials"]}


def items_to_rate(driver: Any, base: str, study_id: int) -> list[int]:
    """The item numbers the dashboard lists as left to rate (its trial list without Complete trials).

    The list renders as many items as fit the window: a rater (or a script) rates those and
    asks again until it is empty. The page shows "0 Trials" until its data arrive, so it is
    read once its count is the server's (the dashboard's own API) count of unrated items.
    """
    from selenium.webdriver.support.ui import WebDriverWait

    left = sum(state != "Complete" for state in _states(base, study_id).values())
    driver.get(f"{base}/dashboard/studies/{study_id}/trials?exclude=Complete")
    WebDriverWait(driver, WAIT_SECONDS).until(lambda d: f"{left} Trials" in _body(d).splitlines())
    if left == 0:
        return []
    wait_for_text(driver, "Note")  # the first item's page: the list beside it is drawn
    return [int(m) for m in re.findall(r"^Trial (\d+)$", _body(driver), re.M)]


def open_item(driver: Any, base: str, study_id: int, number: int) -> None:
    driver.get(f"{base}/dashboard/studies/{study_id}/trials?numbers={number}")
    wait_for_text(driver, f"Trial {number} (trial_id=")
    wait_for_text(driver, "Set Objective Values Form")


def item_text(driver: Any) -> str:
    """The item's note as the rater reads it."""
    return driver.find_element("tag name", "body").text


def rate_open_item(driver: Any, base: str, study_id: int, number: int, choices: Sequence[str]) -> None:
    """Pick one choice per rubric question (by its label) and press Submit on the open item ``number``.

    Returns once the dashboard's server reports the item complete, as the next page it serves will.
    """
    from selenium.webdriver.support.ui import WebDriverWait

    submit = "//button[normalize-space()='Submit']"
    WebDriverWait(driver, WAIT_SECONDS).until(lambda d: d.find_elements("xpath", submit))
    for choice in choices:
        label = driver.find_element("xpath", f"//label[.//span[normalize-space()='{choice}']]")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", label)
        label.click()
    button = driver.find_element("xpath", submit)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    button.click()
    # The form hides its button at once; the rating is stored when the page shows the item Complete
    # (leaving earlier would cancel the request).
    WebDriverWait(driver, WAIT_SECONDS).until(lambda d: "Complete" in _body(d).splitlines())
    WebDriverWait(driver, WAIT_SECONDS).until(lambda d: _states(base, study_id).get(number) == "Complete")
