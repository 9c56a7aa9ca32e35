"""``study.run --save-adapters``: the adapters of Pareto trials, as artifacts of their trials.

A trial's adapter exists only while the trial runs (the base model is shared, the adapter is
removed after each trial), and whether the trial is on the Pareto front is known only once
its objectives are. So :class:`AdapterKeeper` saves every trained adapter to a scratch folder
(``on_trained``), and the loop, before telling Optuna the trial's values, uploads it as
``trial-<n>-adapter.zip`` when no complete trial, the base model included, dominates those
values; otherwise it is dropped. Optuna refuses to change a finished trial's system
attributes, so the upload happens while the trial is still running.

Adapters of trials that a later trial dominates stay in the store: a finished trial's artifact
list cannot be edited, and removing the file alone would leave a dead link in the dashboard.

To use one: download it from the trial's artifacts in the dashboard (or copy
``<artifact-dir>/<artifact id>``, where the file store keeps it), unzip it, and load it with
``peft.PeftModel.from_pretrained(base_model, folder)``.
"""

from __future__ import annotations

import tempfile
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from objectives import dominates
from study.core import keys


def on_front(study: optuna.Study, values: Sequence[float]) -> bool:
    """Whether ``values`` would be on the study's Pareto front now (the base model's trial counts)."""
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return not any(t.values and dominates(t.values, values, study.directions) for t in done)


class AdapterKeeper:
    """Holds the adapter of the trial that just trained until the loop knows where the trial stands."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self._scratch: tempfile.TemporaryDirectory | None = None

    def keep(self, peft_model: Any) -> None:
        """The ``on_trained`` hook of :func:`study.finetune.trial.run_trial`: saves the adapter only."""
        self.drop()
        self._scratch = tempfile.TemporaryDirectory(prefix="lora-adapter-")
        peft_model.save_pretrained(self._scratch.name)

    def drop(self) -> None:
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    def upload_if_on_front(self, study: optuna.Study, trial: optuna.Trial, values: Sequence[float]) -> str | None:
        """Upload the kept adapter if ``values`` are on the front; returns a warning when the store fails.

        Records the artifact's id and file name in the trial's user attribute ``adapter``.
        """
        if self._scratch is None:
            return None
        try:
            if not on_front(study, values):
                return None
            from optuna.artifacts import upload_artifact

            name = f"trial-{trial.number}-adapter.zip"
            with tempfile.TemporaryDirectory(prefix="lora-adapter-zip-") as tmp:
                archive = Path(tmp) / name  # the artifact's file name is the uploaded file's
                with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:  # float weights barely compress
                    for path in sorted(Path(self._scratch.name).iterdir()):
                        zf.write(path, path.name)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    artifact_id = upload_artifact(artifact_store=self.store, file_path=str(archive),
                                                  study_or_trial=trial, mimetype="application/zip")
            trial.set_user_attr(keys.ADAPTER, {"artifact_id": artifact_id, "filename": name})
        except OSError as exc:  # a full disk: the trial's scores are stored all the same
            return f"adapter not uploaded: {exc.strerror or exc}"
        finally:
            self.drop()
        return None
