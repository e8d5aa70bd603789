"""The Merkle tree kept beside each log (spec checkpoints-v1 §1): the head's frontier and the
whole blocks' hashes, as appending keeps them and as the migration fills them for old logs."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from tests.meeting_builders import OPENS, estate, open_meeting
from voting.domain.merkle import (
    Frontier,
    LeafHashes,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
)
from voting.extensions import db
from voting.models import LogEntry, LogSubtree, Meeting, MeetingHead, RollEntry
from voting.services.assembly import ballots, ledger, tree

MIGRATION = next(
    (Path(__file__).resolve().parents[2] / "migrations" / "versions").glob("acfc912e7a78_*.py")
)


def cast_many(make: Any, count: int) -> Meeting:
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home, is_revote_allowed=True)
    holders = [home.holder(phone).id for phone in home.phones]
    for number in range(count):
        choice = ("agree", "oppose", "abstain")[number % 3]
        ballots.cast(meeting.id, holders[number % 2], {"m1": choice}, now=OPENS)
    return meeting


def append_many(make: Any, count: int) -> Meeting:
    """``count`` revotes appended in one transaction straight through ``ledger.append`` (no
    ballot index rows: only the log and its tree matter here)."""
    home = estate(make, ["100.00", "80.00"])
    meeting = open_meeting(home, is_revote_allowed=True)
    holders = list(
        db.session.scalars(select(RollEntry.public_id).where(RollEntry.meeting_id == meeting.id))
    )
    locked, head = ledger.lock(meeting.id)
    assert head is not None
    for number in range(count):
        head.ballots += 1
        fields = {
            "meeting": meeting.public_id,
            "ballot": f"b{head.ballots:06d}",
            "holder": holders[number % 2],
            "channel": "online",
            "choices": {"m1": "agree"},
            "supersedes": f"b{head.ballots - 2:06d}" if number >= 2 else None,
            "evidence": None,
        }
        ledger.append(locked, head, "ballot", fields, OPENS)
    db.session.commit()
    return meeting


def log_leaves(meeting: Meeting) -> list[bytes]:
    hashes = db.session.scalars(
        select(LogEntry.hash).where(LogEntry.meeting_id == meeting.id).order_by(LogEntry.seq)
    )
    return [leaf_hash(bytes.fromhex(h)) for h in hashes]


def stored(meeting: Meeting) -> tuple[bytes, list[tuple[int, str]]]:
    head = db.session.get(MeetingHead, meeting.id)
    assert head is not None
    blocks = db.session.execute(
        select(LogSubtree.block, LogSubtree.hash)
        .where(LogSubtree.meeting_id == meeting.id)
        .order_by(LogSubtree.block)
    ).all()
    return head.frontier, [tuple(row) for row in blocks]


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 4 entries, so that a few dozen ballots cross many of them."""
    monkeypatch.setattr(tree, "BLOCK_HEIGHT", 2)
    monkeypatch.setattr(tree, "BLOCK", 4)


def test_appending_keeps_the_frontier_and_each_whole_block(make: Any, small_blocks: None) -> None:
    meeting = cast_many(make, 29)  # the open entry and 29 ballots: 30 entries, 7 whole blocks
    leaves = log_leaves(meeting)
    frontier, blocks = stored(meeting)
    expected = Frontier()
    for leaf in leaves:
        expected.append(leaf)
    assert frontier == expected.to_bytes()
    assert tree.frontier(db.session.get(MeetingHead, meeting.id)).root() == LeafHashes(leaves)(
        0, 30
    )
    assert blocks == [(b, LeafHashes(leaves)(4 * b, 4 * b + 4).hex()) for b in range(7)]


def test_proofs_from_the_stored_tree_are_the_rfc_proofs(make: Any, small_blocks: None) -> None:
    meeting = cast_many(make, 37)
    leaves = LeafHashes(log_leaves(meeting))
    for size in (1, 4, 5, 16, 17, 31, 38):
        stored_tree = tree.StoredTree(meeting.id, size)
        assert stored_tree(0, size) == leaves(0, size)
        for index in {0, size // 3, size - 1}:
            assert inclusion_proof(index, size, stored_tree) == inclusion_proof(index, size, leaves)
        for old in {1, size // 2 or 1, size}:
            assert consistency_proof(old, size, stored_tree) == consistency_proof(old, size, leaves)
    with pytest.raises(ProofError):
        tree.StoredTree(meeting.id, 38)(0, 39)


def test_a_missing_block_hash_is_named_not_papered_over(make: Any, small_blocks: None) -> None:
    meeting = cast_many(make, 11)
    db.session.execute(delete(LogSubtree).where(LogSubtree.block == 1))
    with pytest.raises(tree.TreeBroken, match="保存了 2 个区块哈希，应有 3 个"):
        tree.StoredTree(meeting.id, 12)


def test_a_whole_block_of_256(make: Any) -> None:
    meeting = append_many(make, 270)
    leaves = log_leaves(meeting)
    frontier, blocks = stored(meeting)
    assert blocks == [(0, LeafHashes(leaves)(0, 256).hex())]
    stored_tree = tree.StoredTree(meeting.id, 271)
    assert inclusion_proof(260, 271, stored_tree) == inclusion_proof(260, 271, LeafHashes(leaves))
    # The migration fills the same for a log written before it.
    db.session.execute(delete(LogSubtree))
    db.session.execute(update(MeetingHead).values(frontier=b""))
    spec = importlib.util.spec_from_file_location("tree_migration", MIGRATION)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    migration._fill(db.session.connection())
    db.session.expire_all()
    assert stored(meeting) == (frontier, blocks)
