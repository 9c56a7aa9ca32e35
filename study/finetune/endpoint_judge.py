"""A judge of correctness and harm: an OpenAI-compatible chat server on the team's own machine.

Each answer is rated against its question and reference on a rubric (the bundled
``study/bundled/judge_rubric.md``, or ``evaluation.judge.rubric``), which gives per question:

- ``judge_correct``: 1 correct, 0.5 partly correct, 0 wrong;
- ``judge_harmful``: 1 when following the answer could harm a patient, else 0;
- ``judge_length``: -1 too short, 0 right, +1 too long (its mean says which way a trial leans),
  and ``judge_length_off``: 1 when the length is not right (its mean, the share of answers of
  the wrong length, is the one to optimise: a signed mean of 0 can hide many of both kinds).

**One request per answer**, ``batch_size`` of them in flight at once. A judgement then never
sees other answers (no anchoring on a neighbour, no position bias in a long prompt), a
malformed reply costs the retry of one answer, and each row of the cache is one answer;
vLLM, llama.cpp's server (``--parallel N``) and Ollama (``OLLAMA_NUM_PARALLEL``) batch
concurrent requests on the GPU themselves, so nothing is lost by not packing answers.

Replies are read by :mod:`study.finetune.judge_reply`; judgements are cached
(:mod:`study.finetune.judge_cache`). Requests go straight to the
endpoint, never through a proxy from the environment. A request that fails (no connection, no
reply within ``timeout_s``, HTTP 5xx) or whose reply cannot be read is tried again up to
``retries`` times; then :class:`JudgeError`, a :class:`StudyError`, stops the trial with one
line naming the endpoint (and the question, for a reply that could not be read).
"""

from __future__ import annotations

import ipaddress
import json
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict
from http.client import HTTPException
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from objectives import JUDGE_METRICS
from study.core.config import JudgeConfig
from study.core.errors import StudyError
from study.finetune.judge_cache import JudgeCache, judgement_key
from study.finetune.judge_reply import Verdict, parse_verdict

BUNDLED_RUBRIC = Path(__file__).resolve().parents[1] / "bundled" / "judge_rubric.md"
DEFAULT_CACHE = Path("studies") / "judge-cache.db"  # beside the default study storage, studies/<name>.db
USER_MESSAGE = "Question:\n{question}\n\nReference answer:\n{reference}\n\nAnswer to judge:\n{answer}"
MAX_BACKOFF_S = 30.0
SHOWN = 60  # characters of a question or reply quoted in a message


class JudgeError(StudyError):
    """The judge endpoint failed, or its replies could not be read: the trial stops with one line."""


class _Retry(Exception):
    """A failure worth another try: no connection, no reply in time, a server error, an unreadable reply."""

    def __init__(self, why: str, malformed: bool = False) -> None:
        super().__init__(why)
        self.why, self.malformed = why, malformed


def chat_url(endpoint: str) -> str:
    """``http://host:8000/v1`` -> ``http://host:8000/v1/chat/completions``; a full URL stays as it is."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith("/chat/completions") else endpoint + "/chat/completions"


def remote_warning(endpoint: str) -> str | None:
    """A one-line warning when the endpoint is not on this machine (not loopback, not localhost)."""
    host = urllib.parse.urlsplit(endpoint).hostname or ""
    try:
        local = ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = host == "localhost" or host.endswith(".localhost")
    if local:
        return None
    return (f"the judge endpoint {endpoint} is not on this machine: every validation question, reference and "
            f"answer is sent to {host}")


def read_rubric(path: str | None) -> str:
    source = Path(path).expanduser() if path else BUNDLED_RUBRIC
    try:
        text = source.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise StudyError(f"evaluation.judge.rubric: cannot read {source} ({exc})") from None
    if not text:
        raise StudyError(f"evaluation.judge.rubric: {source} is empty")
    return text


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


class EndpointJudge:
    """Judges answers through ``cfg.endpoint``, cached; ``requests`` counts what it sent (tries included)."""

    def __init__(self, cfg: JudgeConfig, sleep: Callable[[float], None] = time.sleep) -> None:
        if not cfg.endpoint or not cfg.model:
            raise StudyError("evaluation.judge: set both endpoint and model to use the judge")
        self.cfg, self.sleep = cfg, sleep
        self.url = chat_url(cfg.endpoint)
        self.rubric = read_rubric(cfg.rubric)
        self.cache = JudgeCache(Path(cfg.cache).expanduser() if cfg.cache else DEFAULT_CACHE)
        self.requests = 0
        self._count = threading.Lock()  # requests is counted from the pool's threads
        self._open = urllib.request.build_opener(urllib.request.ProxyHandler({})).open  # never through a proxy

    def judge(self, questions: Sequence[str], references: Sequence[str], answers: Sequence[str]) -> list[Verdict]:
        """One verdict per answer, in order: from the cache, or from the endpoint (then cached)."""
        if not len(questions) == len(references) == len(answers):
            raise ValueError(f"{len(questions)} questions, {len(references)} references, {len(answers)} answers")
        keys = [judgement_key(q, r, a, self.cfg.model, self.rubric) for q, r, a in zip(questions, references, answers)]
        known = {k: Verdict(**v) for k, v in self.cache.get(keys).items()}
        todo = {k: i for i, k in reversed(list(enumerate(keys))) if k not in known}  # each new key once, first index
        new: dict[str, dict] = {}
        pool = ThreadPoolExecutor(max_workers=self.cfg.batch_size, thread_name_prefix="judge")
        try:
            futures = {pool.submit(self._judge_one, i, questions[i], references[i], answers[i]): k
                       for k, i in sorted(todo.items(), key=lambda item: item[1])}
            for future in as_completed(futures):
                verdict = future.result()  # a JudgeError ends the call
                known[futures[future]] = verdict
                new[futures[future]] = asdict(verdict)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            self.cache.put(new, self.cfg.model)  # one transaction; what was judged before a failure is kept
        return [known[k] for k in keys]

    def _judge_one(self, index: int, question: str, reference: str, answer: str) -> Verdict:
        body = {
            "model": self.cfg.model,
            "messages": [{"role": "system", "content": self.rubric},
                         {"role": "user", "content": USER_MESSAGE.format(question=question, reference=reference,
                                                                         answer=answer)}],
            "temperature": 0,
            "max_tokens": self.cfg.max_tokens,
        }
        tries = self.cfg.retries + 1
        failure = _Retry("no try")
        for attempt in range(tries):
            if attempt:
                self.sleep(min(2.0 ** (attempt - 1), MAX_BACKOFF_S))  # 1 s, 2 s, 4 s, ...
            try:
                content = self._post(body)
                try:
                    return parse_verdict(content)
                except ValueError as exc:
                    raise _Retry(f"{exc}; the reply began {_short(content)!r}", malformed=True) from None
            except _Retry as exc:
                failure = exc
        where, tried = f"judge {self.cfg.model} at {self.cfg.endpoint}", f"{tries} {'try' if tries == 1 else 'tries'}"
        if failure.malformed:
            raise JudgeError(f"{where}: no readable judgement of question {index + 1} ({_short(question)!r}) in "
                             f"{tried}: {failure.why} (the rubric asks for one JSON object; try a stronger "
                             "judge model or more evaluation.judge.retries)")
        raise JudgeError(f"{where}: {failure.why}, {tried} (question {index + 1}); the trial stops, "
                         "resume the study with the same command once the server answers")

    def _post(self, body: dict[str, Any]) -> str:
        """The reply's message content; :class:`_Retry` for what another try may mend, JudgeError otherwise."""
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.cfg.api_key_env) if self.cfg.api_key_env else None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        request = urllib.request.Request(self.url, data=json.dumps(body).encode("utf-8"), headers=headers,
                                         method="POST")
        with self._count:
            self.requests += 1
        timeout = self.cfg.timeout_s
        try:
            with self._open(request, timeout=timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            detail = _error_detail(exc)
            if exc.code in (408, 429) or exc.code >= 500:
                raise _Retry(f"HTTP {exc.code} {detail}") from None
            raise JudgeError(f"judge endpoint {self.url}: HTTP {exc.code} {detail} (check evaluation.judge.endpoint "
                             "and evaluation.judge.model)") from None
        except TimeoutError:
            raise _Retry(f"no reply within {timeout:g} s (evaluation.judge.timeout_s)") from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise _Retry(f"no reply within {timeout:g} s (evaluation.judge.timeout_s)") from None
            raise _Retry(f"cannot connect ({getattr(exc.reason, 'strerror', None) or exc.reason})") from None
        except (OSError, HTTPException) as exc:  # the connection broke mid-reply
            raise _Retry(f"the connection broke ({type(exc).__name__}: {exc})") from None
        try:
            content = json.loads(raw)["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise _Retry(f"the reply is not a chat completion: {_short(raw.decode('utf-8', 'replace'))!r}",
                         malformed=True) from None
        if not isinstance(content, str):
            raise _Retry(f"the reply's message content is {content!r}", malformed=True)
        return content


def _error_detail(exc: urllib.error.HTTPError) -> str:
    """The server's own error message (OpenAI format: {"error": {"message": ...}}), short."""
    try:
        body = exc.read().decode("utf-8", "replace")
        error = json.loads(body).get("error", body)
        message = error.get("message", error) if isinstance(error, dict) else error
    except (OSError, ValueError, AttributeError):
        message = exc.reason
    return _short(str(message))


def judge_answers(cfg: JudgeConfig, questions: Sequence[str], references: Sequence[str],
                  answers: Sequence[str]) -> tuple[dict[str, float], dict[str, list]]:
    """The judge's metrics (means over the questions) and per-question scores of one set of answers."""
    start = time.perf_counter()
    verdicts = EndpointJudge(cfg).judge(questions, references, answers)
    items: dict[str, list] = {
        "judge_correct": [v.correct for v in verdicts],
        "judge_harmful": [v.harmful for v in verdicts],
        "judge_length": [float(v.length) for v in verdicts],
        "judge_length_off": [float(v.length != 0) for v in verdicts],
    }
    metrics = {name: sum(values) / len(values) for name, values in items.items() if values}
    metrics["judge_seconds"] = time.perf_counter() - start
    return metrics, items


def judge_into(cfg: JudgeConfig, questions: Sequence[str], references: Sequence[str], answers: Sequence[str],
               metrics: dict[str, float], per_question: dict[str, list]) -> None:
    """Add the judge's metrics and per-question scores of ``answers`` to ``metrics`` and ``per_question``.

    Nothing happens when no endpoint is configured (``evaluation.judge.endpoint`` unset): every
    place that scores answers (a trial, the base, the test split) calls it the same way.
    """
    if cfg.endpoint:
        judged, items = judge_answers(cfg, questions, references, answers)
        metrics.update(judged)
        per_question.update(items)


def preflight(cfg: JudgeConfig, wanted: Iterable[str], pruning_metric: str) -> str | None:
    """Check the judge settings before a study starts; returns a warning line, or None.

    Refused together: a judge metric as an objective with no endpoint, a judge metric as the
    pruning metric (the judge rates the final answers only), an endpoint without a model, a
    missing rubric or API-key variable. Then one ``GET /models`` checks that the server is
    there (an HTTP error still shows that it is; only no connection at all stops the study).
    """
    problems = []
    needs = sorted(set(wanted) & JUDGE_METRICS)
    if pruning_metric in JUDGE_METRICS:
        problems.append(f"--pruning-metric {pruning_metric}: the judge rates the final answers only, not the checks "
                        "during training; prune on eval_loss or rougeL")
    if needs and not cfg.endpoint:
        problems.append(f"{', '.join(needs)} need{'s' * (len(needs) == 1)} a judge endpoint: set evaluation.judge.endpoint and .model, e.g. "
                        "--set evaluation.judge.endpoint=http://127.0.0.1:8000/v1 --set evaluation.judge.model=NAME "
                        "(README, 'Judging correctness and harm')")
    if cfg.endpoint:
        if urllib.parse.urlsplit(cfg.endpoint).scheme not in ("http", "https"):
            problems.append(f"evaluation.judge.endpoint {cfg.endpoint!r} is not an http:// or https:// URL")
        if not cfg.model:
            problems.append("evaluation.judge.model is not set: name the model the server serves")
        if cfg.api_key_env and not os.environ.get(cfg.api_key_env):
            problems.append(f"evaluation.judge.api_key_env: the environment variable {cfg.api_key_env} is not set")
        try:
            read_rubric(cfg.rubric)
        except StudyError as exc:
            problems.append(exc.message)
    if problems:
        raise StudyError.collect(problems, "judge")
    if not cfg.endpoint:
        return None
    _ping(cfg)
    return remote_warning(cfg.endpoint)


def _ping(cfg: JudgeConfig) -> None:
    base = chat_url(cfg.endpoint or "").removesuffix("/chat/completions")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(base + "/models", timeout=cfg.timeout_s) as response:
            response.read()
    except urllib.error.HTTPError:
        return  # the server answered
    except (urllib.error.URLError, OSError, HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise JudgeError(f"judge endpoint {cfg.endpoint} cannot be reached "
                         f"({getattr(reason, 'strerror', None) or reason}): start the server, or fix "
                         "evaluation.judge.endpoint") from None
