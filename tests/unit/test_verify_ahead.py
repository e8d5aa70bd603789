"""The log's first signatures read ahead (issue 14 §4): the workers verify them while the roll
is still being read; a result counts only for the entry the log then gives with the same
pair, and no signature is verified twice."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.unit.builders import APPROVAL, LOG_KEY, MeetingBuilder
from tests.unit.test_verify import signed_pairs
from voting.domain import bundle as bundle_module
from voting.domain.bundle import leading_seals, verify_bundle
from voting.domain.parallel import OrderedPool
from voting.domain.sigcheck import SignatureChecker
from voting.domain.signing import ENTRY_TAG, public_key_raw, public_key_text, signature_raw

KEY = public_key_raw(public_key_text(LOG_KEY))
BUNDLES = Path(__file__).resolve().parents[1] / "bundles"


@pytest.fixture
def verified(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of pairs in each batch sent to the workers, in order."""
    sizes: list[int] = []
    submit = OrderedPool.submit

    def counting(pool: OrderedPool[bytes, list[int]], batch: bytes, wait: bool = True) -> Any:
        sizes.append(len(batch) // 96)
        return submit(pool, batch, wait)

    monkeypatch.setattr(OrderedPool, "submit", counting)
    return sizes


@pytest.fixture
def reading_ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers on a bundle of any size, every entry read ahead (a small roll would give none)."""
    monkeypatch.setattr(bundle_module, "EARLY_WORKERS_BYTES", 0)
    monkeypatch.setattr(bundle_module, "READ_AHEAD_BYTES", 1)


def joined(pairs: list[tuple[bytes, bytes]]) -> bytes:
    return b"".join(digest + signature for digest, signature in pairs)


def test_pairs_verified_ahead_are_not_verified_again(verified: list[int]) -> None:
    pairs = signed_pairs(40, bad={3, 17, 39})
    checker = SignatureChecker(KEY, ENTRY_TAG, workers=2, batch=7)
    checker.verify_ahead(joined(pairs[:20]))
    for seq, (digest, signature) in enumerate(pairs):
        checker.add(seq, digest, signature)
    assert checker.finish() == [3, 17, 39]
    assert verified == [7, 7, 6, 7, 7, 6]  # the first 20 read ahead, then the rest


def test_a_result_read_ahead_counts_only_for_the_same_pair(verified: list[int]) -> None:
    pairs = signed_pairs(10, bad={2})
    guessed = [*pairs, *signed_pairs(12, bad={10, 11})[10:]]  # two the log will not give
    guessed[2] = signed_pairs(3, bad=set())[2]  # valid as read ahead, forged in the log
    guessed[5] = (pairs[5][0], bytes(64))  # forged as read ahead, valid in the log
    checker = SignatureChecker(KEY, ENTRY_TAG, workers=2)
    checker.verify_ahead(joined(guessed))
    for seq, (digest, signature) in enumerate(pairs):
        checker.add(seq, digest, signature)
    assert checker.finish() == [2]
    assert verified == [6, 6, 2]  # seqs 2 and 5 again, as the log gives them


def test_without_workers_nothing_is_read_ahead(verified: list[int]) -> None:
    pairs = signed_pairs(5, bad={1})
    checker = SignatureChecker(KEY, ENTRY_TAG, workers=1)
    checker.verify_ahead(joined(pairs))
    for seq, (digest, signature) in enumerate(pairs):
        checker.add(seq, digest, signature)
    assert checker.finish() == [1]
    assert verified == []


def meeting_bundle(ballots: int = 12) -> dict[str, Any]:
    meeting = MeetingBuilder([10000 + holder for holder in range(ballots)], [APPROVAL])
    for holder in range(ballots):
        meeting.ballot(holder, {"m1": "agree" if holder % 3 else "oppose"})
    return meeting.finish()


def log_pairs(bundle: dict[str, Any]) -> list[tuple[bytes, bytes]]:
    return [(bytes.fromhex(e["hash"]), signature_raw(e["sig"])) for e in bundle["log"]]


@pytest.mark.parametrize("indent", [None, 2])
def test_the_leading_seals_are_the_first_entries_pairs(indent: int | None) -> None:
    bundle = meeting_bundle()
    data = json.dumps(bundle, indent=indent, ensure_ascii=False).encode()
    before_log = data.index(b'"log": [') + len(b'"log": [')
    raw = io.BytesIO(data)
    raw.seek(7)
    assert leading_seals(raw, 1) == joined(log_pairs(bundle))  # all there are
    assert raw.tell() == 7
    per = before_log // 5
    assert leading_seals(raw, per) == joined(log_pairs(bundle)[: before_log // per])


def test_nothing_is_read_ahead_of_a_log_written_before_its_roll() -> None:
    bundle = meeting_bundle()
    data = json.dumps({"log": bundle["log"], **bundle}).encode()
    assert leading_seals(io.BytesIO(data), 600) == b""
    assert leading_seals(io.BytesIO(b'{"format": "owner-assembly-bundle/1"'), 1) == b""


def forged_signature(bundle: dict[str, Any]) -> None:
    bundle["log"][1]["sig"] = bundle["log"][2]["sig"]


def edited_choice(bundle: dict[str, Any]) -> None:
    bundle["log"][1]["choices"]["m1"] = "agree"


def rehashed_opening(bundle: dict[str, Any]) -> None:
    bundle["log"][0]["hash"] = "0" * 64


@pytest.mark.parametrize("tamper", [forged_signature, edited_choice, rehashed_opening])
@pytest.mark.usefixtures("reading_ahead")
def test_a_tampered_leading_entry_fails_as_it_does_without_reading_ahead(
    verified: list[int], tamper: Any
) -> None:
    bundle = meeting_bundle()
    tamper(bundle)
    data = json.dumps(bundle).encode()
    expected = verify_bundle(io.BytesIO(data), workers=1).to_data()
    assert not expected["valid"] and verified == []
    assert verify_bundle(io.BytesIO(data), workers=2).to_data() == expected
    assert verified == [8, 7]  # all 15 entries read ahead, none verified again


@pytest.mark.usefixtures("reading_ahead")
def test_a_seal_misread_ahead_is_verified_as_the_log_gives_it(verified: list[int]) -> None:
    """An escape in entry 1's signature hides it from the read-ahead, which pairs each later
    hash with the next entry's signature: those results fail and must not count."""
    bundle = meeting_bundle()
    signature = bundle["log"][1]["sig"]
    escaped = f"\\u{ord(signature[0]):04x}{signature[1:]}"
    data = json.dumps(bundle).replace(signature, escaped).encode()
    report = verify_bundle(io.BytesIO(data), workers=2)
    assert report.valid, report.problems
    entries = len(bundle["log"])
    assert sum(verified) == 2 * entries - 1  # all read ahead; all but seq 0 again


@pytest.mark.parametrize("name", sorted(p.name for p in BUNDLES.glob("*-2-*.json")))
@pytest.mark.usefixtures("reading_ahead")
def test_the_example_bundles_report_the_same_when_read_ahead(name: str) -> None:
    with (BUNDLES / name).open("rb") as raw:
        expected = verify_bundle(raw, workers=1).to_data()
        assert verify_bundle(raw, workers=2).to_data() == expected
