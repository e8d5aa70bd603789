#!/usr/bin/env python3
"""Write the example bundles of this folder (see README.md), deterministically.

    python tests/bundles/make_bundles.py [FOLDER]

Ed25519 signatures are deterministic and every time is fixed, so running
this again gives the same bytes; a test checks that the committed files are
exactly what this writes.
"""

from __future__ import annotations

import copy
import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from tests.unit.builders import (  # noqa: E402
    APPROVAL,
    LOG_ORIGIN,
    MAJOR,
    OFFICE_KEY,
    OTHER_KEY,
    WITNESS,
    MeetingBuilder,
    attestation_signed_by,
    checkpoint_note,
    election,
    receipt_proof,
    reseal,
    witnessed,
)
from voting.domain.bundle import write_bundle  # noqa: E402
from voting.domain.checkpoints import witness_name  # noqa: E402
from voting.domain.signing import SEALS, body_hash, public_key_text  # noqa: E402

SPEC_EXAMPLE = "valid-spec-example.json"
RECEIPTS = "receipts"


def canonical(bundle: dict[str, Any]) -> bytes:
    """As the app exports: one canonical roll row or entry per line."""
    out = io.BytesIO()
    write_bundle(out, bundle["keys"]["log"], bundle["roll"], bundle["log"], bundle["attestations"])
    return out.getvalue()


def pretty(bundle: dict[str, Any]) -> bytes:
    return (json.dumps(bundle, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def runoff_meeting() -> MeetingBuilder:
    """Revote, paper and proxy ballots, and two candidates tied for the last of two seats."""
    # c1 has 4 of 5 heads; c2 and c3 have 3 each and the same 567.15 m²: run-off.
    meeting = MeetingBuilder(
        [17620, 8945, 12000, 14565, 30150],
        [APPROVAL, MAJOR, election(2, ["c1", "c2", "c3"])],
        revote=True,
    )
    first = meeting.ballot(0, {"m1": "oppose", "m2": "agree", "e1": ["c1"]})
    meeting.ballot(1, {"m1": "agree", "m2": "agree", "e1": ["c1", "c2"]})
    meeting.ballot(2, {"m1": "agree", "m2": "oppose", "e1": ["c1", "c3"]}, channel="paper")
    meeting.ballot(
        0, {"m1": "agree", "m2": "agree", "e1": ["c1", "c2"]}, supersedes=first["ballot"]
    )
    meeting.ballot(3, {"m1": "abstain", "e1": ["c1", "c3"]}, channel="proxy")
    meeting.ballot(4, {"m1": "agree", "m2": "agree", "e1": ["c2", "c3"]})
    return meeting


def valid_runoff(_: dict[str, Any]) -> bytes:
    return canonical(runoff_meeting().finish())


def valid_before_tally(_: dict[str, Any]) -> bytes:
    meeting = runoff_meeting()
    meeting.close()
    return canonical(meeting.bundle())


def float_in_close(example: dict[str, Any]) -> bytes:
    return pretty(example).replace(b'"ballots": 5', b'"ballots": 5.0')


def duplicate_key(example: dict[str, Any]) -> bytes:
    return pretty(example).replace(
        b'"channel": "proxy",', b'"channel": "proxy", "channel": "online",'
    )


def unknown_field(example: dict[str, Any]) -> bytes:
    example["log"][5]["note"] = "entered by the committee"
    return pretty(reseal(example, 5))


def edited_ballot(example: dict[str, Any]) -> bytes:
    example["log"][2]["choices"]["m2"] = "oppose"
    return pretty(example)


def deleted_entry(example: dict[str, Any]) -> bytes:
    del example["log"][3]
    return pretty(example)


def rehashed_not_resigned(example: dict[str, Any]) -> bytes:
    log = example["log"]
    log[3]["choices"]["m1"] = "oppose"
    for seq in range(3, len(log)):
        log[seq]["prev"] = log[seq - 1]["hash"]
        log[seq]["hash"] = body_hash(log[seq], SEALS)
    return pretty(example)


def other_key(example: dict[str, Any]) -> bytes:
    example["keys"]["log"] = public_key_text(OTHER_KEY)
    return pretty(example)


def early_close(_: dict[str, Any]) -> bytes:
    meeting = MeetingBuilder([10000] * 3, [APPROVAL])
    meeting.ballot(0, {"m1": "agree"})
    meeting.ballot(1, {"m1": "agree"})
    meeting.append("close", {"meeting": meeting.meeting["id"], "ballots": 2})
    meeting.tally()
    return canonical(meeting.bundle())


def roll_changed(example: dict[str, Any]) -> bytes:
    example["roll"][4]["area"] = "401.50"
    return pretty(example)


def revote_off(example: dict[str, Any]) -> bytes:
    example["log"][0]["meeting"]["revote"] = False
    return pretty(reseal(example))


def not_on_roll(example: dict[str, Any]) -> bytes:
    example["log"][3]["holder"] = "h-b99"
    return pretty(reseal(example, 3))


def close_count(example: dict[str, Any]) -> bytes:
    example["log"][7]["ballots"] = 6
    return pretty(reseal(example, 7))


def tally_forged(example: dict[str, Any]) -> bytes:
    example["log"][8]["results"][1]["passed"] = True
    return pretty(reseal(example, 8))


def forged_attestation(example: dict[str, Any]) -> bytes:
    head = example["log"][-1]
    forged = attestation_signed_by(OTHER_KEY, head["hash"], head["at"], name="街道办")
    forged["key"] = example["attestations"][0]["key"]  # claims to be the street office
    example["attestations"].append(forged)
    return pretty(example)


# --- format 2 (spec checkpoints-v1 §6) ---------------------------------------------------


def witnessed_example(example: dict[str, Any]) -> dict[str, Any]:
    """The spec's example as format 2: the street office cosigned the log at sizes 2 and 5
    while voting, and the whole log (spec §7's note) after the tally."""
    return witnessed(example, [checkpoint_note(example, size) for size in (2, 5, 9)])


def valid_witnessed(example: dict[str, Any]) -> bytes:
    return pretty(witnessed_example(example))


def root_disagrees(example: dict[str, Any]) -> bytes:
    forked = bytes.fromhex(body_hash({"a": "tree the bundle does not hold"}, ()))
    notes = [checkpoint_note(example, size) for size in (2, 9)]
    return pretty(
        witnessed(example, [notes[0], checkpoint_note(example, 5, root=forked), notes[1]])
    )


def unlisted_cosigner(example: dict[str, Any]) -> bytes:
    stranger = ((WITNESS, OFFICE_KEY), (witness_name(LOG_ORIGIN, "elsewhere"), OTHER_KEY))
    notes = [checkpoint_note(example, 2, cosigners=stranger)]
    return pretty(witnessed(example, notes + [checkpoint_note(example, s) for s in (5, 9)]))


def beyond_log(example: dict[str, Any]) -> bytes:
    bundle = witnessed_example(example)
    # A note of size 12 of a log that holds 9 entries, signed like the others.
    longer = copy.deepcopy(example)
    longer["log"] += [longer["log"][-1]] * 3
    bundle["checkpoints"]["notes"].append(str(checkpoint_note(longer, 12)))
    return pretty(bundle)


def log_rewritten(example: dict[str, Any]) -> bytes:
    """An insider with the log key moved ballot 3 by a second and re-signed everything after
    the street office had cosigned sizes 2 and 5; it cannot make the witness cosign again."""
    cosigned = [checkpoint_note(example, size) for size in (2, 5)]
    example["log"][3]["at"] = "2026-03-01T01:00:22Z"
    reseal(example, 3)
    whole = checkpoint_note(example, len(example["log"]), cosigners=())
    return pretty(witnessed(example, [*cosigned, whole]))


def no_whole_log_note(example: dict[str, Any]) -> bytes:
    return pretty(witnessed(example, [checkpoint_note(example, size) for size in (2, 5)]))


def checkpoints_in_format_1(example: dict[str, Any]) -> bytes:
    return pretty({**witnessed_example(example), "format": "owner-assembly-bundle/1"})


def format_2_without_checkpoints(example: dict[str, Any]) -> bytes:
    return pretty({**example, "format": "owner-assembly-bundle/2"})


def example_receipt(example: dict[str, Any]) -> bytes:
    """The receipt page's proof for ballot 3 of the spec's example."""
    return receipt_proof(example, 3).to_json()


def forked_receipt(example: dict[str, Any]) -> bytes:
    """A proof the log gave for ballot 3 before an insider changed that ballot and re-signed."""
    example["log"][3]["choices"]["m1"] = "oppose"
    reseal(example, 3)
    return receipt_proof(example, 3).to_json()


PROOFS: dict[str, Callable[[dict[str, Any]], bytes]] = {
    "example-seq-3.json": example_receipt,
    "forked-seq-3.json": forked_receipt,
}

BUNDLES: dict[str, Callable[[dict[str, Any]], bytes]] = {
    "valid-runoff.json": valid_runoff,
    "valid-before-tally.json": valid_before_tally,
    "invalid-1-float.json": float_in_close,
    "invalid-1-duplicate-key.json": duplicate_key,
    "invalid-1-unknown-field.json": unknown_field,
    "invalid-2-edited-ballot.json": edited_ballot,
    "invalid-2-deleted-entry.json": deleted_entry,
    "invalid-2-rehashed-not-resigned.json": rehashed_not_resigned,
    "invalid-2-other-key.json": other_key,
    "invalid-3-early-close.json": early_close,
    "invalid-4-roll-changed.json": roll_changed,
    "invalid-5-revote-off.json": revote_off,
    "invalid-5-not-on-roll.json": not_on_roll,
    "invalid-6-close-count.json": close_count,
    "invalid-7-tally-forged.json": tally_forged,
    "invalid-8-forged-attestation.json": forged_attestation,
    "valid-witnessed.json": valid_witnessed,
    "invalid-1-checkpoints-in-format-1.json": checkpoints_in_format_1,
    "invalid-1-format-2-without-checkpoints.json": format_2_without_checkpoints,
    "invalid-10-root-disagrees.json": root_disagrees,
    "invalid-10-unlisted-cosigner.json": unlisted_cosigner,
    "invalid-10-beyond-log.json": beyond_log,
    "invalid-10-log-rewritten.json": log_rewritten,
    "invalid-10-no-whole-log-note.json": no_whole_log_note,
}


def write_all(folder: Path) -> None:
    example = json.loads((HERE / SPEC_EXAMPLE).read_text(encoding="utf-8"))
    for name, make in BUNDLES.items():
        (folder / name).write_bytes(make(copy.deepcopy(example)))
    (folder / RECEIPTS).mkdir(exist_ok=True)
    for name, make in PROOFS.items():
        (folder / RECEIPTS / name).write_bytes(make(copy.deepcopy(example)))


if __name__ == "__main__":
    write_all(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
