"""The personal-data scanner: identifiers found with their checks, masked in every message, custom patterns, names."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from study.core.errors import StudyError
from study.core.identifiers import find_identifiers, identity_number_kind, luhn_digit, mask
from study.core.personal_data import Scanner, report_lines
from study.finetune.data import DATA_DIR


def valid(date: str, serial: str = "987") -> str:
    """YYMMDD + serial + the Luhn digit: a checksum-valid number (made up)."""
    return date + serial + str(luhn_digit(date + serial))


def invalid(date: str, serial: str = "987") -> str:
    return date + serial + str((luhn_digit(date + serial) + 1) % 10)


def kinds(text: str) -> list[tuple[str, str]]:
    return [(m.kind, m.value) for m in find_identifiers(text)]


def test_luhn_digit_of_a_known_number():
    # 811218-9876 is the usual textbook example: 8*2,1,1*2,2,1*2,8,9*2,8,7*2 -> check digit 6.
    assert luhn_digit("811218987") == 6


@pytest.mark.parametrize("form", ["{d}-{r}", "{d}{r}", "19{d}-{r}", "19{d}{r}", "{d}+{r}"])
def test_checksum_valid_personnummer_is_found_in_every_format(form):
    number = valid("811218")
    text = "Patient " + form.format(d=number[:6], r=number[6:]) + " was seen today."
    assert [k for k, _ in kinds(text)] == ["personnummer"]


def test_checksum_invalid_or_impossible_dates_are_left_alone():
    assert kinds(f"ref {invalid('811218')[:6]}-{invalid('811218')[6:]}") == []
    assert kinds(f"ref {valid('811318')}") == []  # month 13
    assert kinds(f"ref {valid('810230')}") == []  # 30 February
    assert identity_number_kind("20" + valid("000229")) == "personnummer"  # 29 February 2000
    assert identity_number_kind("19" + valid("000229")) is None  # 1900 was no leap year


def test_samordningsnummer_is_the_day_plus_sixty():
    number = valid("811278")  # born on the 18th
    assert kinds(f"Samordningsnummer {number[:6]}-{number[6:]}.") == [("samordningsnummer", f"{number[:6]}-{number[6:]}")]
    assert kinds(f"{valid('811298')}") == []  # day 38 does not exist


def test_emails_phones_ips_and_dates_of_birth():
    text = ("Mail anna.svensson@region.example.se or ring 070-123 45 67, 08-123 456 78, +46 (0)70-123 45 67, "
            "+1 (555) 123-4567. Server 192.168.1.20 and fe80::1.")
    found = kinds(text)
    assert [k for k, _ in found] == ["email", "phone", "phone", "phone", "phone", "ip_address", "ip_address"]
    assert kinds("Hon är född 1985-03-12 i Lund.") == [("date_of_birth", "1985-03-12")]
    assert kinds("He was born on 12 March 1985.") == [("date_of_birth", "12 March 1985")]
    assert kinds("DOB: 03/12/1985") == [("date_of_birth", "03/12/1985")]


def test_look_alikes_are_not_flagged():
    for text in ["Dobutamine 5 mg was started on 2020-01-01.", "Give 0.25 to 1.5 mg/kg over 12-24 hours.",
                 "Version 1.2.3.4.5 of the protocol", "At 10:30:45 the biopsy was read.",
                 "Food-borne infection in 2019-2020", "ISHLT grade 2R (1990 grading 3A)", "Born to run: 1985 was good."]:
        assert kinds(text) == [], text


def test_the_bundled_data_has_no_false_alarms():
    files = [*DATA_DIR.glob("*.jsonl"), DATA_DIR / "corpus"]
    assert Scanner().scan_paths(files) == []


def test_values_are_masked_in_every_message(tmp_path):
    number = valid("811218")
    secrets = [f"19{number[:6]}-{number[6:]}", "anna.svensson@region.example.se", "070-123 45 67", "192.168.1.20",
               "1985-03-12", "RN-123456", "Astrid Lindqvist"]
    path = tmp_path / "qa.jsonl"
    rows = [{"question": f"Who is {s}?", "answer": "Patient född 1985-03-12" if "-03-" in s else s} for s in secrets]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    names = tmp_path / "names.txt"
    names.write_text("# staff and patients\nAstrid Lindqvist\n")
    findings = Scanner.build([r"record_number=RN-\d{6}"], names).scan_paths([path])
    assert {f.kind for f in findings} == {"personnummer", "email", "phone", "ip_address", "date_of_birth",
                                          "record_number", "name"}
    message = "\n".join([*report_lines(findings), *map(str, findings), *(repr(f) for f in findings)])
    for secret in secrets:
        assert secret not in message
        for part in re.findall(r"\d{3,}|[A-Za-z]{4,}", secret):
            assert part not in message, part
    assert f"{path}:1: personnummer 1*******-****" in message


def test_custom_patterns_from_a_space_entry_and_a_yaml_file(tmp_path):
    patterns = tmp_path / "hospital.yaml"
    patterns.write_text("record_number: 'RN-\\d{6}'\nward_bed: 'W\\d{2}-B\\d{2}'\n")
    scanner = Scanner.build([str(patterns), r"lab_id=\bLAB\d{5}\b"])
    text = tmp_path / "notes.txt"
    text.write_text("Plain line.\nRecord RN-123456 in W12-B03.\nSample LAB12345 sent.\n")
    found = [(f.line, f.kind) for f in scanner.scan_paths([tmp_path])]
    assert found == [(2, "record_number"), (2, "ward_bed"), (3, "lab_id")]


def test_bad_patterns_are_reported_together(tmp_path):
    with pytest.raises(StudyError) as err:
        Scanner.build(["broken=(", "no equals sign", "empty=x*", "email=foo"], tmp_path / "missing.txt")
    message = err.value.message
    assert "5 problems" in message
    assert "'broken' is not a valid regular expression" in message and "NAME=REGEX" in message
    assert "matches the empty string" in message and "built-in kind" in message and "missing.txt" in message


def test_names_only_with_a_list_and_as_whole_words(tmp_path):
    text = "Astrid Lindqvist met Astridsson."
    assert Scanner().matches(text) == []
    names = tmp_path / "names.txt"
    names.write_text("Astrid Lindqvist\nAstrid\n")
    assert [m.value for m in Scanner.build((), names).matches(text)] == ["Astrid Lindqvist"]


def test_report_shows_ten_findings_then_a_count(tmp_path):
    path = tmp_path / "many.txt"
    path.write_text("".join(f"mail person{i}@example.org\n" for i in range(14)))
    lines = report_lines(Scanner().scan_paths([path]))
    assert len(lines) == 11 and lines[-1] == "... and 4 more"
    assert lines[0] == f"{path}:1: email p******@*******.***"


def test_mask_keeps_separators_and_the_first_character():
    assert mask("19811218-9876") == "1*******-****"
    assert mask("+46 70 123") == "+4* ** ***"


def test_unreadable_or_missing_paths_are_one_line(tmp_path):
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(StudyError, match="not UTF-8"):
        Scanner().scan_paths([tmp_path / "bin.txt"])
    with pytest.raises(StudyError, match="no such file"):
        Scanner().scan_paths([tmp_path / "nothing.jsonl"])


def test_jsonl_escapes_are_read_as_text(tmp_path):
    path = tmp_path / "qa.jsonl"
    path.write_text(json.dumps({"question": "När är hon född?", "answer": "Född 1985-03-12."}, ensure_ascii=True) + "\n")
    assert "\\u00f6" in path.read_text()
    assert [f.kind for f in Scanner().scan_paths([path])] == ["date_of_birth"]
    assert Path(path).exists()
