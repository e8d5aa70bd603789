"""The spec's test vector: rebuilding every entry from its inputs gives the same bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.unit.builders import LOG_KEY, OFFICE_KEY
from voting.domain.ballots import BallotBox
from voting.domain.bundle import make_attestation, make_entry, verify_bundle
from voting.domain.canonical import canonical_json, parse_time
from voting.domain.roll import roll_from_rows
from voting.domain.rules import CIVIL_CODE_2021
from voting.domain.signing import public_key_text

COMMON = ("seq", "prev", "type", "at", "hash", "sig")


def test_keys_are_the_spec_seeds(example: dict[str, Any]) -> None:
    assert public_key_text(LOG_KEY) == example["keys"]["log"]
    assert public_key_text(OFFICE_KEY) == example["attestations"][0]["key"]


def test_every_entry_rebuilds_byte_for_byte(example: dict[str, Any]) -> None:
    for entry in example["log"]:
        fields = {key: value for key, value in entry.items() if key not in COMMON}
        at = parse_time(entry["at"])
        rebuilt = make_entry(entry["seq"], entry["prev"], entry["type"], at, fields, LOG_KEY)
        assert canonical_json(rebuilt) == canonical_json(entry)
    assert example["log"][0]["hash"] == (
        "f94df31ab41d87a49373e2024e30b935645e48adfb3967aa263cf73f01dae404"
    )


def test_attestation_rebuilds_byte_for_byte(example: dict[str, Any]) -> None:
    given = example["attestations"][0]
    rebuilt = make_attestation(
        given["role"], given["name"], given["head"], parse_time(given["at"]), OFFICE_KEY
    )
    assert canonical_json(rebuilt) == canonical_json(given)


def test_roll_commitment_and_tally_are_recomputed(example: dict[str, Any]) -> None:
    opening, *ballots, close, tally = example["log"]
    roll = roll_from_rows(example["roll"])
    assert roll.commitment() == opening["roll"]
    assert CIVIL_CODE_2021.to_data() == opening["rules"]
    box = BallotBox(opening["meeting"], opening["motions"], roll)
    for ballot in ballots:
        assert box.cast(ballot) == []
    assert box.effective_count == close["ballots"] == 5
    assert canonical_json(box.results(CIVIL_CODE_2021)) == canonical_json(tally["results"])


def test_spec_results(example: dict[str, Any]) -> None:
    m1, m2, m3 = example["log"][-1]["results"]
    assert (m1["class"], m1["passed"]) == ("ordinary", True)
    assert (m2["class"], m2["passed"], m2["agree"]["area"]) == ("major", False, "265.65")
    assert not any(candidate["elected"] for candidate in m3["candidates"])


def test_example_verifies(example_path: Path) -> None:
    report = verify_bundle(example_path)
    assert report.problems == []
    assert report.valid
    assert (report.entries, report.stage) == (9, "tallied")
    assert [a["valid"] for a in report.attestations] == [True]
