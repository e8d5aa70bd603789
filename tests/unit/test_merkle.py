"""The log's Merkle tree (RFC 9162 §2.1): the spec's vector, the frontier, and proofs of every size."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voting.domain.merkle import (
    Frontier,
    LeafHashes,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_inclusion,
    tree_hash,
    verify_consistency,
    verify_inclusion,
)

LARGEST = 300
LEAVES = [leaf_hash(hashlib.sha256(b"%d" % i).digest()) for i in range(LARGEST)]
TREE = LeafHashes(LEAVES)
ROOTS = {size: TREE(0, size) for size in range(1, LARGEST + 1)}

# spec checkpoints-v1 §7, over the entries of example-bundle.json
SPEC_ROOTS = {
    1: "e3e933e1238597b340a187d079200605e6fe26b8cd52790884157e1b208a68ea",
    2: "a5b6efc413a5fdd169cf5fa4a2027f6b34f0a59fe6deab22ffe5dc23415f5327",
    5: "078791e955d32f538cec4796c985a8f2545a70412c986ace755c681688f3d9a9",
    9: "d6b4d46fb3a35dd9c951dd149665b5eae1198604572963269e8d8f3d55326a9f",
}
SPEC_PATH_4_OF_9 = [
    "fb1b5387c8fb4adf6735cbd745934de578ee936671cb74084c2218902b7a7e76",
    "c465c4b3d339bc20ff2419d6a7b2ca4c98def257bb43e582f4bce78ce74befef",
    "336b8894e52f2045ad1a5cd778466df5a0df7d37c02bf760e7666d26aceac6eb",
    "2832a35eb8b0b79e56848cee9a6619d0ac115a354927bdce954be19afc5af352",
]
SPEC_CONSISTENCY_5_TO_9 = [
    "fe33c20affaa798df4c7391eb882438212998aaf6086c272bc8bd50b4f8bffa4",
    *SPEC_PATH_4_OF_9,
]


def spec_leaves(example: dict[str, Any]) -> list[bytes]:
    return [leaf_hash(bytes.fromhex(entry["hash"])) for entry in example["log"]]


def test_the_spec_vector_roots(example: dict[str, Any]) -> None:
    leaves = spec_leaves(example)
    assert {size: tree_hash(leaves[:size]).hex() for size in SPEC_ROOTS} == SPEC_ROOTS


def test_the_spec_vector_proofs(example: dict[str, Any]) -> None:
    leaves = spec_leaves(example)
    path = inclusion_proof(4, 9, LeafHashes(leaves))
    assert [node.hex() for node in path] == SPEC_PATH_4_OF_9
    assert verify_inclusion(4, 9, leaves[4], path, bytes.fromhex(SPEC_ROOTS[9]))
    proof = consistency_proof(5, 9, LeafHashes(leaves))
    assert [node.hex() for node in proof] == SPEC_CONSISTENCY_5_TO_9
    old, new = bytes.fromhex(SPEC_ROOTS[5]), bytes.fromhex(SPEC_ROOTS[9])
    assert verify_consistency(5, 9, old, new, proof)


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    """RFC 9162: a leaf is SHA-256(0x00 || data), a node SHA-256(0x01 || left || right)."""
    data = bytes(32)
    assert leaf_hash(data) == hashlib.sha256(b"\x00" + data).digest()
    assert node_hash(data, data) == hashlib.sha256(b"\x01" + data + data).digest()
    assert tree_hash([leaf_hash(data)]) == leaf_hash(data)


def test_the_frontier_gives_every_root_and_newest_path() -> None:
    frontier = Frontier()
    for index, leaf in enumerate(LEAVES):
        path = frontier.append(leaf)
        assert frontier.size == index + 1
        assert len(frontier.roots) == frontier.size.bit_count()
        assert frontier.root() == ROOTS[index + 1]
        assert path == inclusion_proof(index, index + 1, TREE)


def test_an_append_names_the_perfect_subtrees_it_completed() -> None:
    frontier = Frontier()
    for index, leaf in enumerate(LEAVES[:64]):
        frontier.append(leaf)
        size = index + 1
        heights = (size & -size).bit_length()  # the trailing zeros of size, plus one
        assert frontier.completed == [TREE(size - (1 << h), size) for h in range(heights)]


def test_a_frontier_round_trips_through_bytes() -> None:
    frontier = Frontier()
    for leaf in LEAVES[:77]:
        frontier.append(leaf)
    again = Frontier.from_bytes(77, frontier.to_bytes())
    assert again.root() == ROOTS[77]
    again.append(LEAVES[77])
    assert again.root() == ROOTS[78]
    assert frontier.root() == ROOTS[77]  # the copy shares nothing


@pytest.mark.parametrize(
    ("size", "data"),
    [(3, bytes(32)), (4, bytes(64)), (-1, b""), (1, bytes(31)), (2, bytes(33))],
)
def test_a_frontier_must_fit_its_size(size: int, data: bytes) -> None:
    with pytest.raises(ValueError):
        Frontier.from_bytes(size, data)


def test_an_empty_tree_has_no_root() -> None:
    with pytest.raises(ProofError):
        Frontier().root()


@pytest.mark.parametrize(("index", "size"), [(0, 0), (5, 5), (-1, 3)])
def test_no_inclusion_proof_outside_the_tree(index: int, size: int) -> None:
    with pytest.raises(ProofError):
        inclusion_proof(index, size, TREE)


@pytest.mark.parametrize(("old", "new"), [(0, 5), (6, 5), (-1, 3)])
def test_no_consistency_proof_backwards_or_from_nothing(old: int, new: int) -> None:
    with pytest.raises(ProofError):
        consistency_proof(old, new, TREE)


sizes = st.integers(min_value=1, max_value=LARGEST)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_every_inclusion_proof_verifies_and_a_change_fails(data: st.DataObject) -> None:
    size = data.draw(sizes)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    path = inclusion_proof(index, size, TREE)
    leaf, root = LEAVES[index], ROOTS[size]
    assert verify_inclusion(index, size, leaf, path, root)

    flipped = bytes([leaf[0] ^ 1]) + leaf[1:]
    assert not verify_inclusion(index, size, flipped, path, root)
    assert not verify_inclusion(index, size, leaf, path, flipped)
    if path:
        at = data.draw(st.integers(min_value=0, max_value=len(path) - 1))
        changed = [*path[:at], bytes([path[at][0] ^ 1]) + path[at][1:], *path[at + 1 :]]
        assert not verify_inclusion(index, size, leaf, changed, root)
        assert not verify_inclusion(index, size, leaf, path[:-1], root)
    assert not verify_inclusion(index, size, leaf, [*path, LEAVES[0]], root)

    if size > 1:
        other = data.draw(st.integers(0, size - 1).filter(lambda i: i != index))
        assert not verify_inclusion(other, size, leaf, path, root)
    # Another size is judged with that size's root, as a signed checkpoint binds the two
    # (RFC 9162's walk cannot tell size 3 from 4 for leaf 0 against one root).
    resized = data.draw(sizes.filter(lambda s: s != size and s > index))
    assert not verify_inclusion(index, resized, leaf, path, ROOTS[resized])
    assert root_from_inclusion(index, size, leaf, path) == root


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_every_consistency_proof_verifies_and_a_change_fails(data: st.DataObject) -> None:
    new = data.draw(sizes)
    old = data.draw(st.integers(min_value=1, max_value=new))
    proof = consistency_proof(old, new, TREE)
    old_root, new_root = ROOTS[old], ROOTS[new]
    assert verify_consistency(old, new, old_root, new_root, proof)

    flip = lambda h: bytes([h[0] ^ 1]) + h[1:]  # noqa: E731
    assert not verify_consistency(old, new, flip(old_root), new_root, proof)
    assert not verify_consistency(old, new, old_root, flip(new_root), proof)
    if proof:
        at = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        changed = [*proof[:at], flip(proof[at]), *proof[at + 1 :]]
        assert not verify_consistency(old, new, old_root, new_root, changed)
        assert not verify_consistency(old, new, old_root, new_root, proof[:-1])
    assert not verify_consistency(old, new, old_root, new_root, [*proof, LEAVES[0]])

    if new > 1:
        other_old = data.draw(st.integers(1, new).filter(lambda m: m != old))
        assert not verify_consistency(other_old, new, ROOTS[other_old], new_root, proof)
    other_new = data.draw(sizes.filter(lambda n: n != new and n >= old))
    assert not verify_consistency(old, other_new, old_root, ROOTS[other_new], proof)


def test_a_rewritten_leaf_breaks_consistency_from_before_it() -> None:
    """What a witness sees when the log is rewritten: the old root is no prefix of the new tree."""
    rewritten = list(LEAVES[:40])
    rewritten[17] = leaf_hash(b"another ballot")
    tree = LeafHashes(rewritten)
    proof = consistency_proof(20, 40, tree)
    assert not verify_consistency(20, 40, ROOTS[20], tree(0, 40), proof)
    assert verify_consistency(17, 40, ROOTS[17], tree(0, 40), consistency_proof(17, 40, tree))


def test_a_proof_of_malformed_hashes_is_refused() -> None:
    path = inclusion_proof(3, 10, TREE)
    assert not verify_inclusion(3, 10, LEAVES[3], [*path[:-1], path[-1][:31]], ROOTS[10])
    assert not verify_inclusion(3, 10, LEAVES[3], [LEAVES[0]] * 65, ROOTS[10])
    assert not verify_consistency(5, 5, ROOTS[5], ROOTS[5], [LEAVES[0]])
    assert verify_consistency(5, 5, ROOTS[5], ROOTS[5], [])
    assert not verify_consistency(5, 6, ROOTS[5], ROOTS[6], [])
