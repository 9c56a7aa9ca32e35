"""The personal-data check before study.run, study.train and study.export, and the refusal of canaries."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest
import yaml

from study.core.config import DataConfig, PrivacyConfig, TrialConfig
from study.core.errors import StudyError
from study.core.identifiers import luhn_digit
from study.finetune.data_guard import PERSONAL_DATA, data_files, guard
from study.run import main as run_main
from stubs import StubTrials


def planted(qa_file: Path, line: int = 3) -> str:
    """Put a checksum-valid personnummer (made up) into one answer of ``qa_file``; return it."""
    number = "19850312" + "123" + str(luhn_digit("850312123"))
    number = f"{number[:8]}-{number[8:]}"
    rows = [json.loads(r) for r in qa_file.read_text().splitlines()]
    rows[line - 1]["answer"] += f" Patient {number} was the donor."
    qa_file.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return number


def studies_in(url: str) -> list[str]:
    return [s.study_name for s in optuna.get_all_study_summaries(url, include_best_trial=False)]


def test_a_planted_personnummer_stops_study_run_with_one_masked_line_and_nothing_created(
        capsys, tmp_path, fake_model_dir, qa_file):
    number = planted(qa_file)
    db = tmp_path / "studies" / "pd.db"
    code = run_main(["--space", "smoke", "--storage", f"sqlite:///{db}", "--model", str(fake_model_dir),
                     "--data", str(qa_file), "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[0].startswith("error: personal data in the data this command reads (1 finding")
    assert "--allow-personal-data" in err[0]
    assert err[1:] == [f"  {qa_file}:3: personnummer 1*******-****"]
    assert number not in "\n".join(err) and "850312" not in "\n".join(err)
    assert not db.exists() and not (tmp_path / "studies").exists()


def test_allowed_personal_data_goes_on_and_the_study_records_it(capsys, tmp_path, fake_model_dir, qa_file):
    planted(qa_file)
    storage = f"sqlite:///{tmp_path / 'pd.db'}"
    code = run_main(["--space", "smoke", "--storage", storage, "--model", str(fake_model_dir), "--data", str(qa_file),
                     "--no-progress", "--trials", "1", "--allow-personal-data"], trial_fn=StubTrials())
    assert code == 0
    assert "going on because of --allow-personal-data" in capsys.readouterr().err
    study = optuna.load_study(study_name="smoke", storage=storage)
    assert study.user_attrs[PERSONAL_DATA] == {"findings": 1, "kinds": {"personnummer": 1},
                                               "allowed_by": "--allow-personal-data"}
    from optuna_dashboard._note import get_note_from_system_attrs

    note = get_note_from_system_attrs(study._storage.get_study_system_attrs(study._study_id), None)["body"]
    assert "personal identifiers (1 personnummer), let through by `--allow-personal-data`" in note
    assert "stores `membership_auc` (pruned ones as they were when stopped)" in note


def test_the_space_patterns_and_names_are_used(tmp_path, qa_file):
    names = tmp_path / "names.txt"
    names.write_text("Fact\n")  # every answer names "Fact": a names list finds whole words
    cfg = TrialConfig(data=DataConfig(path=str(qa_file)), privacy=PrivacyConfig(patterns=(r"part_count=\d parts",)))
    with pytest.raises(StudyError) as err:
        guard(cfg, allow=False)
    assert "part_count" in err.value.message and "20 findings" in err.value.message
    assert "privacy.names" in err.value.message  # no names list: the message says names are not looked for
    named = TrialConfig(data=DataConfig(path=str(qa_file)), privacy=PrivacyConfig(names=str(names)))
    with pytest.raises(StudyError) as err:
        guard(named, allow=False)
    assert "name F***" in err.value.message and "privacy.names" not in err.value.message


def test_the_files_a_configuration_reads():
    from study.finetune.data import BUNDLED_CORPUS, BUNDLED_QA
    from study.finetune.knowledge import BUNDLED_PROBES

    assert data_files(TrialConfig()) == [BUNDLED_QA, BUNDLED_PROBES, BUNDLED_CORPUS]
    assert guard(TrialConfig(), allow=False) == {}  # the bundled data is clean


def test_train_refuses_a_configuration_with_canaries(capsys, tmp_path, qa_file):
    from study.train import main as train_main

    config = tmp_path / "canaries.yaml"
    cfg = TrialConfig(data=DataConfig(path=str(qa_file)), privacy=PrivacyConfig(canaries=3))
    config.write_text(yaml.safe_dump({"config": cfg.to_dict()}))
    out = tmp_path / "runs" / "x"
    assert train_main(["--config", str(config), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "trains 3 canaries (privacy.canaries)" in err[0] and "never exported or merged" in err[0]
    assert not out.exists()


def test_export_refuses_a_trial_trained_with_canaries(capsys, tmp_path, fake_model_dir, qa_file):
    from study.export import main as export_main
    storage = f"sqlite:///{tmp_path / 'c.db'}"
    assert run_main(["--space", "smoke", "--storage", storage, "--model", str(fake_model_dir), "--data", str(qa_file),
                     "--no-progress", "--trials", "1", "--set", "privacy.canaries=2"], trial_fn=StubTrials()) == 0
    capsys.readouterr()
    out = tmp_path / "best.yaml"
    assert export_main(["--study-name", "smoke", "--storage", storage, "--out", str(out), "--no-test"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "trains 2 canaries" in err[0]
    assert not out.exists()


def test_export_scans_the_data_before_scoring_the_test_split(capsys, tmp_path, fake_model_dir, qa_file):
    from study.export import main as export_main
    storage = f"sqlite:///{tmp_path / 'e.db'}"
    assert run_main(["--space", "smoke", "--storage", storage, "--model", str(fake_model_dir), "--data", str(qa_file),
                     "--no-progress", "--trials", "1"], trial_fn=StubTrials()) == 0
    planted(qa_file, line=5)
    capsys.readouterr()
    out = tmp_path / "best.yaml"
    assert export_main(["--study-name", "smoke", "--storage", storage, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[1:] == [f"  {qa_file}:5: personnummer 1*******-****"] and not out.exists()


@pytest.mark.slow
def test_train_with_personal_data_let_through_says_so_beside_the_model_it_writes(capsys, tmp_path, tiny_model_dir,
                                                                                 qa_file):
    from study.core.config import DecodingConfig, LoraConfig, ModelConfig, TrainingConfig
    from study.train import main as train_main

    planted(qa_file)
    cfg = TrialConfig(model=ModelConfig(name=str(tiny_model_dir), device="cpu"),
                      data=DataConfig(path=str(qa_file), max_train_examples=4, max_seq_length=64),
                      lora=LoraConfig(rank=4, alpha=8.0), training=TrainingConfig(epochs=1, batch_size=2),
                      decoding=DecodingConfig(max_new_tokens=2))
    config = tmp_path / "best.yaml"
    config.write_text(yaml.safe_dump({"config": cfg.to_dict()}))
    out = tmp_path / "runs" / "pd"
    assert train_main(["--config", str(config), "--out", str(out), "--no-progress"]) == 2
    assert "personnummer" in capsys.readouterr().err and not out.exists()
    assert train_main(["--config", str(config), "--out", str(out), "--no-progress", "--allow-personal-data"]) == 0
    for folder in ("adapter", "merged"):  # the record travels with whichever of the two is shared
        record = json.loads((out / folder / "personal_data.json").read_text())
        assert record == {PERSONAL_DATA: {"findings": 1, "kinds": {"personnummer": 1},
                                          "allowed_by": "--allow-personal-data"}}
