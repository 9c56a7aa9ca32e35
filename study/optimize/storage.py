"""Storage URLs, and creating or resuming a study (samplers: :mod:`study.optimize.samplers`).

The default storage is a SQLite file ``studies/<study-name>.db``, for one worker. Several
workers (processes or machines) share one study through PostgreSQL
(``postgresql://user:password@host/db``, driver from ``pip install -e '.[postgres]'``) or
through a journal file on a shared file system (``journal:///path/study.log``). Running the
same command again resumes the study; a study of the same name with other objectives is
refused instead of being mixed up.

On SQL storages every running trial records a heartbeat (see :mod:`study.optimize.recovery`), so the
trial of a worker that was killed is failed and its configuration queued again.
"""

from __future__ import annotations

import random
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import optuna
from optuna.trial import TrialState

from objectives import Objective, direction_of
from study.core import keys
from study.core.errors import StudyError

if TYPE_CHECKING:
    from study.finetune.data import Splits

STUDIES_DIR = Path("studies")
HEARTBEAT_SECONDS = 60  # a running trial writes one row a minute; silent for twice that, it is failed
CONNECT_TIMEOUT_SECONDS = 10  # an unreachable server is reported instead of hanging
SCHEMA_RACE_ATTEMPTS = 5  # workers that start together on an empty database race to create the tables
SINGLE_WRITER_SCHEMES = ("sqlite",)
COUNTED_STATES = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL, TrialState.RUNNING)


def default_storage_url(study_name: str) -> str:
    return f"sqlite:///{STUDIES_DIR / study_name}.db"


def scheme(url: str) -> str:
    """``postgresql`` for ``postgresql+psycopg://…``; ``''`` for something that is not a URL."""
    return url.partition("://")[0].partition("+")[0] if "://" in url else ""


def redact(url: str) -> str:
    """The URL with its password replaced by ``***``, for messages and logs."""
    if scheme(url) in ("", "journal"):
        return url
    try:
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
    except Exception:  # not parseable: shown as given, the error names it anyway
        return url
    return parsed.render_as_string(hide_password=True) if parsed.password else url


def check_shareable(url: str, workers: int) -> None:
    """Refuse several workers on a storage that allows one writer at a time."""
    if workers > 1 and scheme(url) in SINGLE_WRITER_SCHEMES:
        raise StudyError(
            f"--workers {workers} with --storage {redact(url)}: SQLite locks up under several writers; "
            "use --storage postgresql://user@host/db (pip install -e '.[postgres]') "
            "or --storage journal:///path/to/study.log"
        )


def check_heartbeat(url: str, heartbeat_seconds: int | None) -> None:
    """Refuse ``--heartbeat`` where it would do nothing: Optuna's journal storage keeps no heartbeats."""
    if heartbeat_seconds is not None and scheme(url) == "journal":
        raise StudyError(
            f"--heartbeat {heartbeat_seconds} with --storage {url}: Optuna's journal storage keeps no heartbeats, "
            "so a trial whose worker died is not failed or retried there; use --storage postgresql://user@host/db "
            "for crash recovery, or leave out --heartbeat"
        )


def open_storage(url: str, heartbeat_seconds: int | None = HEARTBEAT_SECONDS) -> optuna.storages.BaseStorage:
    """An Optuna storage for ``url``; a bad or unreachable URL stops with one line.

    ``postgresql://`` uses psycopg 3 (SQLAlchemy would pick psycopg2 otherwise). SQL storages
    get heartbeats every ``heartbeat_seconds`` (None: off) and re-queue the configuration of a
    trial whose worker died; the journal storage has no heartbeats.
    """
    kind = scheme(url)
    if not kind:
        raise StudyError(
            f"--storage {url}: not a storage URL (e.g. sqlite:///studies/x.db, postgresql://user@host/db "
            "or journal:///path/study.log)"
        )
    if kind == "journal":
        from optuna.storages.journal import JournalFileBackend

        path = Path(url.removeprefix("journal:///")).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
    if kind == "sqlite" and url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True, exist_ok=True)
    return _open_rdb(url, heartbeat_seconds)


def _with_driver(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def _open_rdb(url: str, heartbeat_seconds: int | None) -> optuna.storages.RDBStorage:
    from study.optimize.reconnect import ReconnectingRDBStorage
    from study.optimize.recovery import RequeueStaleTrials

    shown = redact(url)
    engine_kwargs = _engine_kwargs(url)
    for attempt in range(SCHEMA_RACE_ATTEMPTS):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return ReconnectingRDBStorage(  # outlasts a database restart: study.optimize.reconnect
                    _with_driver(url),
                    engine_kwargs=engine_kwargs,
                    heartbeat_interval=heartbeat_seconds,
                    grace_period=2 * heartbeat_seconds if heartbeat_seconds else None,
                    heartbeat_stale_trial_callback=RequeueStaleTrials() if heartbeat_seconds else None,
                )
        except ImportError as exc:
            missing = getattr(exc.__cause__, "name", None) or "the database driver"
            hint = " (pip install -e '.[postgres]')" if scheme(url) == "postgresql" else ""
            raise StudyError(f"--storage {shown}: cannot open ({missing} is not installed{hint})") from None
        except Exception as exc:  # SQLAlchemy raises many kinds: bad dialect, refused connection, bad password
            if _is_schema_race(exc) and attempt + 1 < SCHEMA_RACE_ATTEMPTS:
                time.sleep(0.2 + random.random())  # another worker is creating the tables; retry once they exist
                continue
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise StudyError(f"--storage {shown}: cannot open ({reason})") from None
    raise AssertionError("unreachable")


def _engine_kwargs(url: str) -> dict[str, Any]:
    if scheme(url) == "postgresql":
        # pre_ping: a worker holds its connection through hour-long trials; the server may drop it.
        return {"pool_pre_ping": True, "connect_args": {"connect_timeout": CONNECT_TIMEOUT_SECONDS}}
    return {}


def _is_schema_race(exc: Exception) -> bool:
    """Two processes creating Optuna's tables at once: PostgreSQL reports a duplicate type or table."""
    from sqlalchemy.exc import IntegrityError, ProgrammingError

    return isinstance(exc, (IntegrityError, ProgrammingError)) and (
        "already exists" in str(exc) or "pg_type_typname_nsp_index" in str(exc)
    )


def existing_study(storage: optuna.storages.BaseStorage, name: str) -> optuna.study.StudySummary | None:
    for summary in optuna.get_all_study_summaries(storage, include_best_trial=False):
        if summary.study_name == name:
            return summary
    return None


def load_existing_study(url: str, name: str, heartbeat_seconds: int | None = HEARTBEAT_SECONDS
                        ) -> tuple[optuna.Study, optuna.storages.BaseStorage]:
    """The stored study ``name`` and its storage, for a command that reads a study; creates nothing.

    Opening a storage creates what is missing: a SQLite or journal file and its folder, or
    Optuna's tables in an empty database. So a file is looked for, and a database for Optuna's
    tables, before it is opened, and a mistyped path or study name stops with one line that
    leaves nothing behind.
    """
    hint = f"run python -m study.run --study-name {name} first, or pass --storage"
    kind = scheme(url)
    if kind in ("sqlite", "journal") and url.startswith(f"{kind}:///"):
        path = Path(url.removeprefix(f"{kind}:///")).expanduser()
        if not path.is_file():
            raise StudyError(f"--storage {url}: no such file {path} ({hint})")
    if kind not in ("", "journal") and not _holds_optuna_tables(url):
        raise StudyError(f"--storage {redact(url)}: holds no Optuna study ({hint})")
    storage = open_storage(url, heartbeat_seconds)
    held = {s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)}
    if name not in held:
        mains = sorted(n for n in held if not n.endswith(keys.PRUNING_SUFFIX))
        listing = f"it holds: {', '.join(mains)}" if mains else "it holds no studies"
        raise StudyError(f"--study-name {name}: no such study in {redact(url)} ({listing})")
    return optuna.load_study(study_name=name, storage=storage), storage


def _holds_optuna_tables(url: str) -> bool:
    """Whether the database has Optuna's tables, asked without creating them (or the database)."""
    from sqlalchemy import create_engine, inspect

    try:
        engine = create_engine(_with_driver(url), **_engine_kwargs(url))
    except ImportError:
        return True  # no driver: open_storage says so in its own words
    except Exception as exc:
        raise StudyError(f"--storage {redact(url)}: cannot open ({str(exc).splitlines()[0]})") from None
    try:
        return inspect(engine).has_table("studies")
    except Exception as exc:  # refused connection, bad password, unknown database, not a database file
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StudyError(f"--storage {redact(url)}: cannot open ({reason})") from None
    finally:
        engine.dispose()


def check_compatible(storage: optuna.storages.BaseStorage, name: str, objectives: Sequence[Objective]) -> None:
    """Refuse to resume a study whose objectives differ from the requested ones (before anything is written)."""
    summary = existing_study(storage, name)
    if summary is None:
        return
    study = optuna.load_study(study_name=name, storage=storage)
    # Names are set just after creation: a worker that starts at that moment sees none yet.
    names = study.metric_names or [o.metric for o in objectives]
    have = [f"{m}:{direction_of(d)}" for m, d in zip(names, study.directions)]
    want = [str(o) for o in objectives]
    if have != want:
        raise StudyError(
            f"--study-name {name}: the study exists with objectives {','.join(have)}, not {','.join(want)}; "
            "use another --study-name or the same objectives"
        )


def create_or_resume(
    storage: optuna.storages.BaseStorage,
    name: str,
    objectives: Sequence[Objective],
    sampler: optuna.samplers.BaseSampler,
    attrs: dict[str, Any],
    unchangeable: Mapping[str, str] | None = None,
) -> optuna.Study:
    """Create the study (with named metrics) or load it again for resuming.

    ``unchangeable`` maps attributes that a resumed study must keep to the flag that sets
    them (what makes the values its trials already hold comparable with new ones: the
    pruner's checks per epoch, its metric); a different value stops with a line that says
    what to pass. Safe when several workers start at
    once: one creates the study, the others load it.
    """
    check_compatible(storage, name, objectives)
    if unchangeable:
        summary = existing_study(storage, name)
        stored = summary.user_attrs if summary is not None else {}
        for key, flag in unchangeable.items():
            if key in stored and stored[key] != attrs[key]:
                given = f"{flag}{stored[key]}" if flag.endswith("=") else f"{flag} {stored[key]}"
                raise StudyError(f"study '{name}' ran with {key} {stored[key]}, not {attrs[key]}: resume it with "
                                 f"{given}, or start a new study with --study-name")
    study = optuna.create_study(
        study_name=name,
        storage=storage,
        directions=[o.direction for o in objectives],
        sampler=sampler,
        load_if_exists=True,
    )
    if study.metric_names is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.set_metric_names([o.metric for o in objectives])
    for key, value in attrs.items():
        if study.user_attrs.get(key) != value:
            study.set_user_attr(key, value)
    return study


def counted_trials(study: optuna.Study) -> int:
    """Trials that count toward ``--total-trials``: finished or running.

    A trial failed because its worker died does not count once its configuration has been
    queued again: the retry counts in its place. The base model's trial does not count.
    """
    trials = study.get_trials(deepcopy=False)
    retried = {n for t in trials for n in t.system_attrs.get("retry_history", ())}
    return sum(t.state in COUNTED_STATES and t.number not in retried and keys.REFERENCE not in t.user_attrs
               for t in trials)


def check_same_data(study_name: str, stored: Mapping[str, Any], splits: "Splits") -> None:
    """Refuse to resume a study on other pairs than it began with: their scores would not compare.

    Studies recorded before the fingerprint existed are resumed as they are.
    """
    before = stored.get(keys.DATA_FINGERPRINT)
    if before is None or before == splits.fingerprint():
        return
    counts, now = "/".join(str(stored.get(k, "?")) for k in ("n_train", "n_val", "n_test")), splits.counts()
    if counts != now:
        change = f"{stored.get(keys.DATA_SOURCE, '?')} gave {counts} train/val/test pairs, {splits.source} gives {now}"
    else:
        change = f"{splits.source} gives the same number of train/val/test pairs ({now}) with other text"
    raise StudyError(
        f"study '{study_name}' began on other data ({change}), so the scores of its trials would not compare "
        "with new ones: restore the data and the data settings it ran with (data.path, split_seed, val_fraction, "
        "test_fraction, max_train_examples, max_val_examples), or start a new study with --study-name"
    )
