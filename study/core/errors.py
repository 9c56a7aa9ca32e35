"""The project's error for bad user input.

Library code raises :class:`StudyError` when a file, a key or a flag is wrong; the
command-line entry points turn it into one line on stderr and exit code 2.
"""

from __future__ import annotations


class StudyError(Exception):
    """A problem with the user's input: a file, a config key, a flag, a storage URL.

    The message names where the problem is (file and line, or key) and what would be
    valid, so that it can be shown as one line without a traceback.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @classmethod
    def collect(cls, problems: list[str], where: str) -> "StudyError":
        """Build one error that lists every problem found in ``where``."""
        if len(problems) == 1:
            return cls(f"{where}: {problems[0]}")
        return cls(f"{where}: {len(problems)} problems: " + "; ".join(problems))


class DivergedError(RuntimeError):
    """Training produced a NaN or infinite loss: the configuration diverged (the trial ends PRUNED)."""
