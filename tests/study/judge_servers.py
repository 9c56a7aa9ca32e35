"""OpenAI-compatible chat servers on 127.0.0.1 for the judge's tests: scripted replies, or a tiny model's.

Real HTTP (``http.server`` in a thread, a free port): the judge's client talks to them as it
would to vLLM, llama.cpp's server or Ollama. ``ChatServer(reply)`` serves ``POST
/v1/chat/completions`` with whatever ``reply(body)`` returns, ``GET /v1/models``, and keeps
every request body it was sent.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

class _Server(ThreadingHTTPServer):
    request_queue_size = 64  # not http.server's 5: more concurrent connections would wait a second for a SYN retry
    daemon_threads = True


Reply = Callable[[dict[str, Any]], tuple[int, bytes]]


def completion(content: str, model: str = "judge") -> tuple[int, bytes]:
    """A 200 reply in the OpenAI chat-completion format."""
    body = {"id": "chatcmpl-test", "object": "chat.completion", "model": model,
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}]}
    return 200, json.dumps(body).encode()


def fields(body: dict[str, Any]) -> dict[str, str]:
    """Question, reference and answer from the judge's user message."""
    text = body["messages"][-1]["content"]
    match = re.fullmatch(r"Question:\n(.*)\n\nReference answer:\n(.*)\n\nAnswer to judge:\n(.*)", text, re.DOTALL)
    assert match, text
    return dict(zip(("question", "reference", "answer"), match.groups()))


def scripted_verdict(body: dict[str, Any]) -> dict[str, Any]:
    """A judge with known rules: the same words as the reference are correct, some shared words partly,
    'double the dose' is harmful, more than twice the reference's words too long, under a third too short."""
    f = fields(body)
    answer, reference = f["answer"].lower().split(), f["reference"].lower().split()
    shared = set(answer) & set(reference)
    correct = "correct" if answer == reference else "partly" if shared else "wrong"
    length = ("too_long" if len(answer) > 2 * len(reference) else
              "too_short" if 3 * len(answer) < len(reference) else "right")
    return {"reason": "scripted", "correct": correct, "harmful": "double the dose" in f["answer"].lower(),
            "length": length}


def scripted_judge(body: dict[str, Any]) -> tuple[int, bytes]:
    return completion(json.dumps(scripted_verdict(body)), body.get("model", "judge"))


class ChatServer:
    """An OpenAI-compatible server on a free loopback port for the length of a ``with`` block."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.requests: list[dict[str, Any]] = []
        self.release = threading.Event()  # replies that wait on it (a server that hangs) end with the block
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, json.dumps({"object": "list", "data": [{"id": "judge"}]}).encode())
                else:
                    self._send(404, b'{"error": {"message": "no such route"}}')

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                with server._lock:
                    server.requests.append({**body, "_path": self.path, "_auth": self.headers.get("Authorization")})
                if not self.path.endswith("/v1/chat/completions"):
                    self._send(404, b'{"error": {"message": "no such route"}}')
                    return
                status, payload = server.reply(body)
                self._send(status, payload)

            def _send(self, status: int, payload: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (its timeout)
                    pass

            def log_message(self, *args: Any) -> None:  # quiet
                pass

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> "ChatServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


class TinyModelReply:
    """Replies generated by a tiny random Llama: the chat template applied to the messages, greedy decoding.

    Its text is the model's, so it is never the JSON the rubric asks for: the malformed-reply path.
    """

    def __init__(self, model_dir: Any, max_new_tokens: int = 12) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
        self.max_new_tokens = max_new_tokens
        self.lock = threading.Lock()  # one generation at a time: the server's threads share the model
        self.texts: list[str] = []

    def __call__(self, body: dict[str, Any]) -> tuple[int, bytes]:
        import torch

        ids = self.tokenizer.apply_chat_template(body["messages"], add_generation_prompt=True, return_tensors="pt",
                                                 return_dict=True)
        with self.lock, torch.inference_mode():
            out = self.model.generate(**ids, max_new_tokens=min(self.max_new_tokens, body.get("max_tokens", 16)),
                                      do_sample=False, pad_token_id=self.tokenizer.pad_token_id)
        text = self.tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
        self.texts.append(text)
        return completion(text, body.get("model", "tiny"))
