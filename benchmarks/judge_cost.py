"""What the endpoint judge adds to a trial: 38 validation answers judged through a loopback server, cold and cached.

    python -m benchmarks.judge_cost                      # 10 trials each: an instant server, and one taking 0.5 s a reply
    python -m benchmarks.judge_cost --reply-ms 2000      # a slower judge model
    python -m benchmarks.judge_cost --quick              # 3 trials: checks the script

A trial's answers are judged by ``study.finetune.endpoint_judge.judge_answers`` (what
``trial.py`` calls), against an OpenAI-compatible HTTP server on 127.0.0.1 started here:

- **instant**: the server replies at once with a well-formed verdict, so the time is the
  judge's own (HTTP round trips, JSON, the thread pool, the SQLite cache);
- **slow**: each reply waits ``--reply-ms`` first, as a judge model on a GPU would take to
  write a verdict; ``batch_size`` 8 (the default, in flight at once) against 1 shows what
  concurrency buys when the server serves requests in parallel (vLLM, llama.cpp ``--parallel``).

**Cold**: answers never judged (each trial's answers differ: the validation references with
words dropped at random); **cached**: the same answers again (the base model's and repeated
answers). Reports the median and the range over trials of the seconds per trial. Compare with
a default-study trial's 60-80 s (benchmarks/RESULTS.md).
"""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from benchmarks import _common as common

NAME = "judge_cost"
class _Server(ThreadingHTTPServer):
    request_queue_size = 64  # not http.server's 5: more concurrent connections would wait a second for a SYN retry
    daemon_threads = True


VERDICT = json.dumps({"reason": "benchmark", "correct": "partly", "harmful": False, "length": "right"})


class LoopbackJudge:
    """An OpenAI-compatible server on 127.0.0.1 replying a fixed verdict after ``delay`` seconds."""

    def __init__(self, delay: float) -> None:
        reply = json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": VERDICT}}]}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if delay:
                    time.sleep(delay)  # the judge model writing its verdict
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def answers_of(references: list[str], rng: random.Random) -> list[str]:
    """A trial's answers: each reference with a fifth of its words dropped, differently every trial."""
    out = []
    for ref in references:
        words = ref.split()
        out.append(" ".join(w for w in words if rng.random() > 0.2) or words[0])
    return out


def run_arm(url: str, pairs: list[Any], trials: int, batch_size: int, cache: Path, seed: int) -> dict[str, list[float]]:
    from study.core.config import JudgeConfig
    from study.finetune.endpoint_judge import judge_answers

    cfg = JudgeConfig(endpoint=url, model="benchmark", cache=str(cache), batch_size=batch_size, retries=0)
    questions, references = [p.question for p in pairs], [p.answer for p in pairs]
    rng = random.Random(seed)
    seconds: dict[str, list[float]] = {"cold": [], "cached": []}
    for _ in range(trials):
        answers = answers_of(references, rng)
        for kind in ("cold", "cached"):
            with common.timed() as t:
                judge_answers(cfg, questions, references, answers)
            seconds[kind].append(t.wall)
    return seconds


def main(argv: list[str] | None = None) -> int:
    p = common.parser(__doc__)
    p.add_argument("--trials", type=int, default=10, help="trials per arm (default: 10)")
    p.add_argument("--reply-ms", type=float, default=500.0, help="the slow server's delay per reply (default: 500)")
    args = p.parse_args(argv)
    common.quiet()
    from study.core.config import DataConfig
    from study.finetune.data import load_splits

    trials = 3 if args.quick else args.trials
    pairs = list(load_splits(DataConfig()).val)  # the bundled set's 38 validation questions
    arms = [("instant", 0.0, 8), ("instant", 0.0, 1), ("slow", args.reply_ms / 1000, 8), ("slow", args.reply_ms / 1000, 1)]
    rows, figures = [], {"questions": len(pairs), "trials": trials, "reply_ms": args.reply_ms}
    with tempfile.TemporaryDirectory(prefix="judge-cost-") as tmp:
        for i, (server, delay, batch) in enumerate(arms):
            common.progress(f"{server} server, batch_size {batch}: {trials} trials")
            with LoopbackJudge(delay) as url:
                seconds = run_arm(url, pairs, trials, batch, Path(tmp) / f"cache-{i}.db", seed=i)
            for kind, values in seconds.items():
                median = statistics.median(values)
                rows.append([server, batch, kind, median, min(values), max(values), median / len(pairs) * 1000])
                figures[f"{server}_batch{batch}_{kind}_s"] = {"median": median, "min": min(values), "max": max(values)}
    body = common.table(["server", "batch_size", "answers", "s/trial median", "min", "max", "ms/answer"], rows)
    common.report(NAME, "quick" if args.quick else "default",
                  f"the endpoint judge's seconds per trial ({len(pairs)} answers), loopback server", body, figures,
                  notes=[f"slow server: {args.reply_ms:g} ms per reply, requests served in parallel",
                         "cold: answers never judged; cached: the same answers again (no request)"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
