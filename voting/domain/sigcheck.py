"""Checking the log's signatures on every core (spec §5 check 2).

Ed25519 verification is by far the costliest step of a verification, so
the main process only collects (hash, signature) pairs and ships them in
batches of raw bytes to worker processes. A small log is checked in-process:
starting workers would cost more than it saves.
"""

from __future__ import annotations

from array import array
from collections import deque

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from voting.domain.parallel import OrderedPool, cpu_count

_PAIR = 32 + 64
BATCH = 2048


class _BatchVerifier:
    """Verifies a batch of concatenated (32-byte hash, 64-byte signature) pairs."""

    def __init__(self, public_key: bytes, tag: bytes) -> None:
        self._key = Ed25519PublicKey.from_public_bytes(public_key)
        self._tag = tag

    def __call__(self, batch: bytes) -> list[int]:
        """Positions in the batch whose signature fails."""
        failed = []
        verify, tag = self._key.verify, self._tag
        for position, start in enumerate(range(0, len(batch), _PAIR)):
            try:
                verify(batch[start + 32 : start + _PAIR], tag + batch[start : start + 32])
            except InvalidSignature:
                failed.append(position)
        return failed


_worker_verifier: _BatchVerifier | None = None


def _start_worker(public_key: bytes, tag: bytes) -> None:
    global _worker_verifier
    _worker_verifier = _BatchVerifier(public_key, tag)


def _verify_in_worker(batch: bytes) -> list[int]:
    assert _worker_verifier is not None, "worker started without a key"
    return _worker_verifier(batch)


class SignatureChecker:
    """Collects signatures to check and tells, at the end, which entries' failed."""

    def __init__(
        self, public_key: bytes, tag: bytes, workers: int | None = None, batch: int = BATCH
    ) -> None:
        self._key_args = (public_key, tag)
        self._verifier = _BatchVerifier(public_key, tag)
        self._workers = cpu_count() if workers is None else workers
        self._batch_size = batch
        self._batch = bytearray()
        self._seqs = array("q")
        self._queued: deque[array] = deque()  # seqs of the batches in the pool, oldest first
        self._failed: list[int] = []
        self._pool: OrderedPool[bytes, list[int]] | None = None

    def start(self) -> None:
        """Start the workers now, e.g. while the roll is still being read, instead of lazily."""
        if self._workers > 1 and self._pool is None:
            self._pool = OrderedPool(
                _verify_in_worker, self._workers, _start_worker, self._key_args
            )

    def add(self, seq: int, hash_raw: bytes, signature: bytes) -> None:
        self._batch += hash_raw
        self._batch += signature
        self._seqs.append(seq)
        if len(self._seqs) >= self._batch_size:
            self._dispatch(in_pool=self._workers > 1)

    def finish(self) -> list[int]:
        """The seqs whose signatures failed, ascending; the workers are stopped."""
        if self._seqs:
            self._dispatch(in_pool=self._pool is not None)
        if self._pool is not None:
            self._collect(self._pool.finish())
            self._pool = None
        return sorted(self._failed)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def _dispatch(self, in_pool: bool) -> None:
        batch, seqs = bytes(self._batch), self._seqs
        self._batch, self._seqs = bytearray(), array("q")
        if not in_pool:
            self._failed += [seqs[i] for i in self._verifier(batch)]
            return
        self.start()
        assert self._pool is not None, "dispatched to a pool with one worker"
        self._queued.append(seqs)
        self._collect(self._pool.submit(batch))

    def _collect(self, done: list[list[int]]) -> None:
        for failed in done:
            seqs = self._queued.popleft()
            self._failed += [seqs[i] for i in failed]
