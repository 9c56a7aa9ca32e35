"""study.optimize.adapters: which trials keep their adapter, and a store that fails is a warning."""

from __future__ import annotations

import zipfile
from pathlib import Path

import optuna
from optuna.artifacts import FileSystemArtifactStore, download_artifact

from study.optimize.adapters import AdapterKeeper, on_front
from study.optimize.dashboard import artifact_store


def tiny_peft_model():
    import torch
    from peft import LoraConfig, get_peft_model

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = torch.nn.Linear(4, 4)

        def forward(self, x):
            return self.lin(x)

    return get_peft_model(Net(), LoraConfig(r=2, target_modules=["lin"]))


def test_the_base_model_counts_on_the_front() -> None:
    study = optuna.create_study(directions=["maximize", "minimize"])
    study.add_trial(optuna.trial.create_trial(values=[0.3, 0.0], user_attrs={"reference": "base"}))
    assert not on_front(study, [0.2, 60.0])  # worse than the untuned model on both
    assert on_front(study, [0.4, 60.0])


def test_a_trial_on_the_front_uploads_its_adapter_as_a_zip_peft_reads(tmp_path: Path) -> None:
    from peft import PeftConfig

    study = optuna.create_study(directions=["maximize"], storage=f"sqlite:///{tmp_path / 's.db'}")
    store = artifact_store(tmp_path / "artifacts")  # as study.run makes it
    keeper = AdapterKeeper(store)
    trial = study.ask()
    keeper.keep(tiny_peft_model())
    assert keeper.upload_if_on_front(study, trial, [0.5]) is None
    stored = trial.user_attrs["adapter"]
    assert stored["filename"] == f"trial-{trial.number}-adapter.zip"
    download_artifact(artifact_store=store, artifact_id=stored["artifact_id"], file_path=str(tmp_path / "a.zip"))
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        zf.extractall(tmp_path / "adapter")
    assert PeftConfig.from_pretrained(str(tmp_path / "adapter")).r == 2


def test_a_dominated_trial_uploads_nothing(tmp_path: Path) -> None:
    study = optuna.create_study(directions=["maximize"])
    study.add_trial(optuna.trial.create_trial(values=[0.9]))
    keeper = AdapterKeeper(FileSystemArtifactStore(str(tmp_path)))
    trial = study.ask()
    keeper.keep(tiny_peft_model())
    assert keeper.upload_if_on_front(study, trial, [0.5]) is None
    assert "adapter" not in trial.user_attrs and list(tmp_path.iterdir()) == []


def test_a_store_that_cannot_write_is_a_warning_and_the_trial_goes_on(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the store's directory should be")
    study = optuna.create_study(directions=["maximize"])
    keeper = AdapterKeeper(FileSystemArtifactStore(str(blocked)))
    trial = study.ask()
    keeper.keep(tiny_peft_model())
    warning = keeper.upload_if_on_front(study, trial, [0.5])
    assert warning is not None and warning.startswith("adapter not uploaded: ")
    assert "adapter" not in trial.user_attrs
    study.tell(trial, [0.5])


def test_nothing_is_uploaded_without_a_kept_adapter(tmp_path: Path) -> None:
    """A pruned trial never reaches ``on_trained``: nothing kept, nothing uploaded."""
    study = optuna.create_study(directions=["maximize"])
    keeper = AdapterKeeper(FileSystemArtifactStore(str(tmp_path)))
    trial = study.ask()
    assert keeper.upload_if_on_front(study, trial, [0.5]) is None
    assert "adapter" not in trial.user_attrs
