"""A meeting's log as a Merkle tree, kept beside the log (spec checkpoints-v1 §1).

Appending keeps the head's frontier and, each time a block of ``BLOCK`` entries
fills, that block's tree hash (``LogSubtree``). The tree of any size is then
its whole blocks' hashes plus the entries' own hashes in at most a few blocks
a proof cuts through: a proof over 50,000 entries reads a few hundred rows.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from voting.domain.merkle import (
    Frontier,
    LeafHashes,
    ProofError,
    is_perfect,
    leaf_hash,
    node_hash,
    split,
)
from voting.extensions import db
from voting.models import LogEntry, LogSubtree, MeetingHead
from voting.services.errors import Conflict

BLOCK_HEIGHT = 8
BLOCK = 1 << BLOCK_HEIGHT


class TreeBroken(Conflict):
    """The stored tree lacks what the log says it must hold (rows removed behind our back)."""

    code = "tree_broken"


def frontier(head: MeetingHead | None) -> Frontier:
    """The frontier of the whole log as the head keeps it (empty before the open entry)."""
    if head is None:
        return Frontier()
    try:
        return Frontier.from_bytes(head.seq + 1, head.frontier)
    except ValueError:
        raise TreeBroken(_("日志头保存的默克尔树前沿与日志条数不符：请运行数据库审计")) from None


def grow(meeting_id: int, tree: Frontier, entry_hash: str) -> dict[str, object] | None:
    """Add an appended entry to ``tree``; the row of the block it completes (``LogSubtree``'s
    values), if it completes one, for the caller to write with the entry (``ledger.write``)."""
    tree.append(leaf_hash(bytes.fromhex(entry_hash)))
    if tree.size % BLOCK:
        return None
    return {
        "meeting_id": meeting_id,
        "block": tree.size // BLOCK - 1,
        "hash": tree.completed[BLOCK_HEIGHT].hex(),
    }


class StoredTree:
    """The tree of a meeting's first ``size`` entries as a ``merkle.Subtrees`` source.

    Whole blocks come from ``LogSubtree``; a range inside one block hashes that
    block's entries, read once per block.
    """

    def __init__(self, meeting_id: int, size: int) -> None:
        self.meeting_id, self.size = meeting_id, size
        rows = db.session.execute(
            select(LogSubtree.block, LogSubtree.hash)
            .where(LogSubtree.meeting_id == meeting_id, LogSubtree.block < size // BLOCK)
            .order_by(LogSubtree.block)
        ).all()
        self._blocks = [bytes.fromhex(hash_) for _, hash_ in rows]
        if len(self._blocks) != size // BLOCK:
            raise TreeBroken(
                _(
                    "日志的默克尔树不完整（保存了 %(kept)d 个区块哈希，应有 %(whole)d 个）："
                    "请运行数据库审计",
                    kept=len(self._blocks),
                    whole=size // BLOCK,
                )
            )
        self._leaves: dict[int, list[bytes]] = {}

    def __call__(self, start: int, end: int) -> bytes:
        if not 0 <= start < end <= self.size:
            raise ProofError(f"no entries [{start}, {end}) in a tree of {self.size}")
        if end - start >= BLOCK and is_perfect(start, end):
            # a perfect tree over whole blocks: their hashes are its lower nodes
            return LeafHashes(self._blocks)(start // BLOCK, end // BLOCK)
        if start // BLOCK == (end - 1) // BLOCK:
            first = start // BLOCK * BLOCK
            return LeafHashes(self._block_leaves(start // BLOCK))(start - first, end - first)
        k = split(end - start)
        return node_hash(self(start, start + k), self(start + k, end))

    def _block_leaves(self, block: int) -> list[bytes]:
        if block not in self._leaves:
            first = block * BLOCK
            hashes = db.session.scalars(
                select(LogEntry.hash)
                .where(
                    LogEntry.meeting_id == self.meeting_id,
                    LogEntry.seq >= first,
                    LogEntry.seq < min(first + BLOCK, self.size),
                )
                .order_by(LogEntry.seq)
            ).all()
            self._leaves[block] = [leaf_hash(bytes.fromhex(hash_)) for hash_ in hashes]
        return self._leaves[block]
