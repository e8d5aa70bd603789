"""The verifier's API: receipts, key pinning, writing bundles, and checking signatures on every core."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest

from tests.unit.builders import APPROVAL, LOG_KEY, OTHER_KEY, MeetingBuilder, election
from voting.domain.bundle import (
    BundleError,
    make_attestation,
    make_entry,
    verify_bundle,
    write_bundle,
)
from voting.domain.canonical import ZERO_HASH, parse_time
from voting.domain.problems import Problems
from voting.domain.sigcheck import SignatureChecker
from voting.domain.signing import ENTRY_TAG, public_key_raw, public_key_text

MEETING = "example-2026-01"
SUPERSEDED = "49a29f715c6a57db432712c0e0d00be364657d0c513e6a9fd282efe793205539"  # seq 1
EFFECTIVE = "1c0e2f2c8e86ded8663cf4c5399e5f9e917ed6afefb9211f2e80cfedc3a1aab3"  # seq 2
OPEN = "f94df31ab41d87a49373e2024e30b935645e48adfb3967aa263cf73f01dae404"


def test_receipts_are_found_and_superseded_ones_say_so(example_path: Path) -> None:
    report = verify_bundle(
        example_path, receipts=[f"{MEETING}:1:{SUPERSEDED}", EFFECTIVE, f" {EFFECTIVE} "]
    )
    assert report.valid
    assert report.receipts[0] == {
        "receipt": f"{MEETING}:1:{SUPERSEDED}",
        "found": True,
        "seq": 1,
        "ballot": "b000001",
        "superseded": True,
    }
    assert [(r["seq"], r["superseded"]) for r in report.receipts[1:]] == [(2, False), (2, False)]


@pytest.mark.parametrize(
    "receipt",
    [
        f"{MEETING}:2:{SUPERSEDED}",  # right hash, wrong seq
        f"other-meeting:1:{SUPERSEDED}",
        OPEN,  # the open entry is not a ballot
        "0" * 64,
    ],
)
def test_a_receipt_not_in_the_log_makes_the_bundle_invalid(
    example_path: Path, receipt: str
) -> None:
    report = verify_bundle(example_path, receipts=[receipt])
    assert [(p.check, p.seq) for p in report.problems] == [(9, None)]
    assert report.receipts == [{"receipt": receipt, "found": False}]


@pytest.mark.parametrize(
    "receipt", ["abc", f"{MEETING}:x:{SUPERSEDED}", f"{MEETING}:{SUPERSEDED}", SUPERSEDED.upper()]
)
def test_a_malformed_receipt_is_a_usage_error(example_path: Path, receipt: str) -> None:
    with pytest.raises(ValueError, match="receipt"):
        verify_bundle(example_path, receipts=[receipt])


def test_the_pinned_key(example_path: Path) -> None:
    assert verify_bundle(example_path, pinned_key=public_key_text(LOG_KEY)).valid
    report = verify_bundle(example_path, pinned_key=public_key_text(OTHER_KEY))
    assert [(p.check, p.seq) for p in report.problems] == [(2, None)]
    with pytest.raises(ValueError):
        verify_bundle(example_path, pinned_key="not a key")


def test_a_missing_file_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        verify_bundle(tmp_path / "missing.json")


def test_written_bundles_verify_and_read_back(tmp_path: Path) -> None:
    meeting = MeetingBuilder(
        [17620, 8945, 12000], [APPROVAL, election(1, ["c1", "c2"])], revote=True
    )
    first = meeting.ballot(0, {"m1": "oppose", "e1": ["c1"]})
    meeting.ballot(1, {"m1": "agree"}, channel="paper")
    meeting.ballot(0, {"m1": "agree", "e1": []}, supersedes=first["ballot"])
    meeting.ballot(2, {"e1": ["c2"]}, channel="proxy")
    bundle = meeting.finish()
    path = tmp_path / "bundle.json"
    with path.open("wb") as out:
        write_bundle(
            out, bundle["keys"]["log"], bundle["roll"], iter(bundle["log"]), bundle["attestations"]
        )
    assert json.loads(path.read_text(encoding="utf-8")) == bundle
    report = verify_bundle(str(path), receipts=[first["hash"]])
    assert report.problems == []
    assert report.receipts[0]["superseded"] is True
    m1, e1 = report.motions
    assert (m1["agree"]["headcount"], m1["passed"]) == (2, True)
    assert e1["candidates"][1] == {
        "candidate": "c2",
        "name": "候选人c2",
        "votes": {"area": "120.00", "headcount": 1, "holders": 1},
        "elected": False,
    }


def test_make_entry_refuses_what_the_spec_does_not_allow() -> None:
    at = parse_time("2026-03-01T01:00:00Z")
    with pytest.raises(BundleError, match="unknown field 'note'"):
        make_entry(1, ZERO_HASH, "close", at, {"meeting": "m", "ballots": 0, "note": ""}, LOG_KEY)
    with pytest.raises(BundleError, match="float"):
        make_entry(1, ZERO_HASH, "close", at, {"meeting": "m", "ballots": 1.0}, LOG_KEY)
    with pytest.raises(BundleError, match="not one of"):
        make_attestation("mayor", "x", ZERO_HASH, at, OTHER_KEY)


def test_the_report_as_json(example_path: Path) -> None:
    data = verify_bundle(example_path).to_data()
    assert set(data) == {
        "valid", "format", "meeting", "log_key", "roll", "entries", "head", "stage", "rules",
        "motions", "attestations", "receipts", "proofs", "checkpoints", "problems", "omitted",
    }  # fmt: skip
    assert data["format"] == "owner-assembly-bundle/1"
    assert data["checkpoints"] is None and data["proofs"] == []
    m1 = data["motions"][0]
    assert m1["quorum"] == {
        "rule": {"area": "2/3", "headcount": "2/3", "strict": False},
        "needs": {"area": "521.67", "headcount": 4},
        "met": True,
    }
    assert m1["threshold"]["needs"] == {"area": "391.26", "headcount": 3}
    json.dumps(data)  # plain JSON all the way down


# --- signatures on every core ------------------------------------------------------------


def signed_pairs(count: int, bad: set[int]) -> list[tuple[bytes, bytes]]:
    pairs = []
    for index in range(count):
        digest = hashlib.sha256(str(index).encode()).digest()
        signature = LOG_KEY.sign(ENTRY_TAG + digest)
        pairs.append((digest, signature if index not in bad else bytes(64)))
    return pairs


@pytest.mark.parametrize("workers", [1, 2])
def test_signature_checker_finds_the_bad_ones_in_order(workers: int) -> None:
    checker = SignatureChecker(
        public_key_raw(public_key_text(LOG_KEY)), ENTRY_TAG, workers, batch=7
    )
    for seq, (digest, signature) in enumerate(signed_pairs(40, bad={3, 17, 39})):
        checker.add(seq, digest, signature)
    assert checker.finish() == [3, 17, 39]


def test_a_big_log_is_checked_in_worker_processes(tmp_path: Path) -> None:
    """Over a batch of entries starts the pool; a forged signature is found at its seq."""
    meeting = MeetingBuilder([10000] * 2100, [APPROVAL])
    for holder in range(2100):
        meeting.ballot(holder, {"m1": "agree" if holder % 3 else "oppose"})
    bundle = meeting.finish()
    bundle["log"][1500]["sig"] = bundle["log"][1501]["sig"]
    data = io.BytesIO(json.dumps(bundle).encode())
    report = verify_bundle(data, workers=2)
    assert [(p.check, p.seq) for p in report.problems] == [(2, 1500)]
    assert report.motions[0]["passed"] is True


def test_problems_are_capped_per_check() -> None:
    problems = Problems(limit=2)
    for seq in range(5):
        problems.add(2, seq, "x")
    problems.add(1, None, "y")
    assert [(p.check, p.seq) for p in problems.sorted()] == [(1, None), (2, 0), (2, 1)]
    assert problems.omitted() == {2: 3}


def test_an_inserted_entry_in_a_long_log_reports_a_bounded_list() -> None:
    meeting = MeetingBuilder([10000] * 1200, [APPROVAL])
    for holder in range(1200):
        meeting.ballot(holder, {"m1": "agree"})
    bundle = meeting.bundle()
    bundle["log"].insert(1, bundle["log"][1])
    report = verify_bundle(io.BytesIO(json.dumps(bundle).encode()), workers=1)
    assert report.omitted[2] > 0
    assert sum(1 for p in report.problems if p.check == 2) == 1000


def test_problem_messages_quoting_the_bundle_stay_short() -> None:
    problems = Problems()
    problems.add(1, 0, "unknown field " + "x" * 10_000)
    (problem,) = problems.sorted()
    assert len(problem.message) == 500 and problem.message.endswith("...")
