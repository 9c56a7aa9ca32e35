"""What every entry point shares: quiet libraries, and user errors as one line with exit code 2."""

from __future__ import annotations

import argparse
import functools
import logging
import os
import sys
import warnings
from typing import Any, Callable

from study.core.errors import StudyError

EXIT_USAGE = 2


def quiet_libraries(allow_hub: bool = False) -> None:
    """Offline by default, no telemetry, and no library chatter between our progress lines."""
    if not allow_hub:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module=r"(transformers|trl|peft|torch)\b")
    import optuna  # its first import resets its own log level, so set it after importing

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for name in ("transformers", "trl", "peft", "accelerate", "datasets", "httpx"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        import transformers

        transformers.utils.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()
    except ImportError:  # pragma: no cover - transformers is a dependency
        pass


def add_personal_data_flag(parser: argparse.ArgumentParser, patterns: bool = False) -> None:
    """``--allow-personal-data``: go on although the personal-data check found identifiers (recorded).

    With ``patterns`` also ``--patterns`` and ``--names``, for a command without a configuration's
    ``privacy`` section (``study.make_qa``).
    """
    parser.add_argument("--allow-personal-data", action="store_true",
                        help="go on although the personal-data check finds identifiers in the data "
                             "(the study records it); without it a finding stops the command")
    if patterns:
        parser.add_argument("--patterns", action="append", default=[], metavar="NAME=REGEX|FILE.yaml",
                            help="an identifier of your own for the personal-data check, or a YAML file of "
                                 "name: regex (repeatable)")
        parser.add_argument("--names", metavar="FILE", help="names of people the check looks for, one a line")


def entry_point(main: Callable[..., int]) -> Callable[..., int]:
    """Wrap ``main`` so that a :class:`StudyError` prints ``error: ...`` and returns exit code 2.

    Keyword arguments pass through: ``study.run.main(argv, trial_fn=...)`` runs a study with another
    trial function (an embedding program's, or a test's stub).
    """

    @functools.wraps(main)
    def wrapper(argv: list[str] | None = None, **kwargs: Any) -> int:
        try:
            return main(argv, **kwargs)
        except StudyError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            return EXIT_USAGE

    return wrapper
