"""``python -m study.privacy scan``: one masked line per finding and exit 2, exit 0 when clean."""

from __future__ import annotations

import json

from study.core.identifiers import luhn_digit
from study.finetune.data import DATA_DIR
from study.privacy import main


def test_scan_of_the_bundled_data_is_clean(capsys):
    assert main(["scan", str(DATA_DIR)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("no personal identifiers found in") and "--names" in out


def test_scan_prints_masked_findings_and_exits_2(tmp_path, capsys):
    number = "850312" + "123" + str(luhn_digit("850312123"))
    qa = tmp_path / "qa.jsonl"
    qa.write_text(json.dumps({"question": "Who?", "answer": f"Patient {number[:6]}-{number[6:]}."}) + "\n"
                  + json.dumps({"question": "Mail?", "answer": "x"}) + "\n"
                  + json.dumps({"question": "Record?", "answer": "RN-654321"}) + "\n")
    assert main(["scan", str(qa), "--patterns", r"record_number=RN-\d{6}"]) == 2
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == [f"{qa}:1: personnummer 8*****-****", f"{qa}:3: record_number R*-******"]
    assert number[:6] not in "\n".join(lines)


def test_scan_reads_the_space_privacy_section(tmp_path, capsys):
    space = tmp_path / "space.yaml"
    space.write_text("privacy:\n  patterns: ['lab_id=LAB\\d{5}']\n")
    notes = tmp_path / "notes.txt"
    notes.write_text("Sample LAB12345.\n")
    assert main(["scan", str(notes), "--space", str(space)]) == 2
    assert capsys.readouterr().out.strip() == f"{notes}:1: lab_id L*******"


def test_bad_pattern_or_missing_path_is_one_error_line(tmp_path, capsys):
    assert main(["scan", str(tmp_path), "--patterns", "broken=("]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a valid regular expression" in err[0]
    assert main(["scan", str(tmp_path / "missing.jsonl")]) == 2
    assert "no such file or directory" in capsys.readouterr().err
