"""Judgements kept in a SQLite file, so that each answer is judged once.

A row is keyed by a hash of (question, reference, answer, judge model, rubric text): the base
model's answers, an answer two trials share and a resumed study's answers are sent to the
endpoint once; another judge model or an edited rubric judges again. The file may be shared by
the workers of a study and by several studies: each write is its own short transaction, and
SQLite's busy timeout makes a writer wait for another rather than fail.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Iterable, Mapping

BUSY_SECONDS = 60.0  # how long a writer waits for another process's transaction
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS judgements (key TEXT PRIMARY KEY, model TEXT NOT NULL, "
    "verdict TEXT NOT NULL, created TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
)


def judgement_key(question: str, reference: str, answer: str, model: str, rubric: str) -> str:
    """A hex digest of everything a judgement depends on; JSON keeps the fields apart (no ambiguous joins)."""
    text = json.dumps([question, reference, answer, model, rubric], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class JudgeCache:
    """Verdicts (as JSON objects) by :func:`judgement_key`, in the SQLite file at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=BUSY_SECONDS)
        connection.execute(SCHEMA)
        return connection

    def get(self, keys: Iterable[str]) -> dict[str, dict]:
        """The stored verdicts of those ``keys`` that have one."""
        wanted = sorted(set(keys))
        found: dict[str, dict] = {}
        if not wanted or not self.path.exists():
            return found
        with closing(self._connect()) as db:
            for start in range(0, len(wanted), 500):  # SQLite limits the parameters of one statement
                chunk = wanted[start : start + 500]
                rows = db.execute(f"SELECT key, verdict FROM judgements WHERE key IN ({','.join('?' * len(chunk))})",
                                  chunk)
                found.update((key, json.loads(verdict)) for key, verdict in rows)
        return found

    def put(self, verdicts: Mapping[str, dict], model: str) -> None:
        """Store verdicts; a key another worker stored meanwhile keeps its first verdict."""
        if not verdicts:
            return
        with closing(self._connect()) as db, db:
            db.executemany("INSERT OR IGNORE INTO judgements (key, model, verdict) VALUES (?, ?, ?)",
                           [(key, model, json.dumps(v, ensure_ascii=False)) for key, v in verdicts.items()])

    def __len__(self) -> int:
        if not self.path.exists():
            return 0
        with closing(self._connect()) as db:
            return int(db.execute("SELECT COUNT(*) FROM judgements").fetchone()[0])
