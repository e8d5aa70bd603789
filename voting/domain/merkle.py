"""The Merkle tree over a meeting's log (RFC 9162 §2.1; spec checkpoints-v1 §1).

Leaves are the entries' 32-byte hashes in seq order. Proofs are built from a
``Subtrees`` source, which answers the tree hash of any leaf range the RFC's
recursion asks for, so the app can serve them from stored subtree hashes and
tests and the verifier from a list of leaf hashes. The ``Frontier`` is what
appending keeps: the roots of the tree's perfect subtrees, from which the root
and the newest leaf's inclusion path come without reading the log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
_LEAF, _NODE = b"\x00", b"\x01"

# The tree hash (MTH) of leaves [start, end); the proof builders only ask for
# ranges the RFC's recursion produces.
Subtrees = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A proof asked for indexes or sizes that do not name one."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(_LEAF + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(_NODE + left + right).digest()


def split(size: int) -> int:
    """The RFC's k: the largest power of two smaller than ``size`` (at least 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def is_perfect(start: int, end: int) -> bool:
    """Whether [start, end) is a whole aligned subtree: 2^h leaves starting at a multiple of 2^h."""
    size = end - start
    return size > 0 and size & (size - 1) == 0 and start % size == 0


# --- trees over a list of leaf hashes ------------------------------------------------


class LeafHashes:
    """A ``Subtrees`` source computing from the leaf hashes themselves (verifier, tests).

    Each call costs one hash per leaf in the range; the app uses stored subtree
    hashes instead.
    """

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self._leaves = leaves

    def __call__(self, start: int, end: int) -> bytes:
        if not 0 <= start < end <= len(self._leaves):
            raise ProofError(f"no leaves [{start}, {end}) in a tree of {len(self._leaves)}")
        return _range_hash(self._leaves, start, end)


def _range_hash(leaves: Sequence[bytes], start: int, end: int) -> bytes:
    if end - start == 1:
        return leaves[start]
    k = split(end - start)
    return node_hash(_range_hash(leaves, start, start + k), _range_hash(leaves, start + k, end))


def tree_hash(leaves: Sequence[bytes]) -> bytes:
    """MTH of a non-empty list of leaf hashes."""
    return LeafHashes(leaves)(0, len(leaves))


# --- proofs (RFC 9162 §2.1.3.1 and §2.1.4.1) ---------------------------------------------


def inclusion_proof(index: int, size: int, subtrees: Subtrees) -> list[bytes]:
    """PATH(index, D[size]): the sibling hashes from the leaf up to the root."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size}")
    path = []
    start, end = 0, size
    while end - start > 1:
        k = split(end - start)
        if index < start + k:
            path.append(subtrees(start + k, end))
            end = start + k
        else:
            path.append(subtrees(start, start + k))
            start += k
    path.reverse()
    return path


def consistency_proof(old: int, new: int, subtrees: Subtrees) -> list[bytes]:
    """PROOF(old, D[new]): what shows the tree of ``old`` leaves is a prefix of that of ``new``."""
    if not 0 < old <= new:
        raise ProofError(f"no consistency proof from {old} to {new}")
    path = []
    start, end, known, whole = 0, new, old, True
    # SUBPROOF(known, D[start:end], whole), unrolled: each step keeps one side.
    while known != end - start:
        k = split(end - start)
        if known <= k:
            path.append(subtrees(start + k, end))
            end = start + k
        else:
            path.append(subtrees(start, start + k))
            start, known, whole = start + k, known - k, False
    if not whole:
        path.append(subtrees(start, end))
    path.reverse()
    return path


# --- verification (RFC 9162 §2.1.3.2 and §2.1.4.2) ---------------------------------------


def root_from_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes | None:
    """The root that ``path`` leads to from ``leaf``; None when it is no path for (index, size)."""
    if not 0 <= index < size or not _well_formed(path):
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def verify_inclusion(
    index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``leaf`` is leaf ``index`` of the tree of ``size`` leaves whose root is ``root``."""
    return root_from_inclusion(index, size, leaf, path) == root


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, path: Sequence[bytes]
) -> bool:
    """Whether the tree ``old_root`` of ``old`` leaves is a prefix of ``new_root`` of ``new``."""
    if not 0 < old <= new or not _well_formed(path):
        return False
    if old == new:
        return not path and old_root == new_root
    if not path:
        return False
    hashes = list(path)
    if old & (old - 1) == 0:  # the old tree is a perfect subtree: its root starts the walk
        hashes.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = hashes[0]
    for c in hashes[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


def _well_formed(path: Sequence[bytes]) -> bool:
    # 64 hashes already cover a tree of 2^64 leaves: anything longer is no proof.
    return len(path) <= 64 and all(type(h) is bytes and len(h) == HASH_SIZE for h in path)


# --- the frontier ---------------------------------------------------------------------------


class Frontier:
    """The roots of the perfect subtrees of a tree of ``size`` leaves, largest first.

    One root per set bit of ``size``: at most 53 for any log the spec allows,
    so it is stored with the log's head and updated on each append in O(log n).
    """

    def __init__(self, size: int = 0, roots: Iterable[bytes] = ()) -> None:
        self.roots = list(roots)
        if size < 0 or len(self.roots) != size.bit_count() or not _well_formed(self.roots):
            raise ValueError(f"{len(self.roots)} subtree roots cannot make a tree of {size}")
        self.size = size
        # The perfect subtrees the last append completed, by height: the leaf, then each
        # merge (a store of whole subtrees keeps the ones it wants).
        self.completed: list[bytes] = []

    def append(self, leaf: bytes) -> list[bytes]:
        """Add a leaf hash; returns the new leaf's inclusion path in the tree that now ends with it.

        That path is the previous frontier, smallest subtree first: each of
        those subtrees is the left sibling of one step on the new leaf's way up.
        """
        path = self.roots[::-1]
        node, size = leaf, self.size
        self.completed = [node]
        while size & 1:
            node = node_hash(self.roots.pop(), node)
            self.completed.append(node)
            size >>= 1
        self.roots.append(node)
        self.size += 1
        return path

    def root(self) -> bytes:
        """MTH of the whole tree (the perfect subtrees joined right to left)."""
        if not self.roots:
            raise ProofError("an empty tree has no root here: a log starts with its open entry")
        node = self.roots[-1]
        for left in reversed(self.roots[:-1]):
            node = node_hash(left, node)
        return node

    def copy(self) -> Frontier:
        return Frontier(self.size, self.roots)

    def to_bytes(self) -> bytes:
        return b"".join(self.roots)

    @classmethod
    def from_bytes(cls, size: int, data: bytes) -> Frontier:
        count = len(data) // HASH_SIZE
        if count * HASH_SIZE != len(data):
            raise ValueError("a frontier is a whole number of 32-byte hashes")
        return cls(size, (data[i * HASH_SIZE : (i + 1) * HASH_SIZE] for i in range(count)))
