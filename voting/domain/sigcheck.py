"""Checking the log's signatures on every core (spec §5 check 2).

Ed25519 verification is by far the costliest step of a verification, so
the main process only collects (hash, signature) pairs and ships them in
batches of raw bytes to worker processes. A small log is checked in-process:
starting workers would cost more than it saves.

The workers need not wait for the log to be reached: ``verify_ahead`` gives them the
first entries' pairs as read ahead in the raw file, while the main process still reads
the roll. A result read ahead counts only for an entry whose pair, as the log is then
read, is byte for byte the one verified ahead; any other is verified as it stands.
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
        # The batches in the pool, oldest first: their seqs, and whether read ahead.
        self._queued: deque[tuple[array, bool]] = deque()
        self._failed: list[int] = []
        self._pool: OrderedPool[bytes, list[int]] | None = None
        self._ahead = b""  # the pairs read ahead, seq 0 first
        self._confirmed = bytearray()  # per seq read ahead: 1 once the log gave the same pair
        self._ahead_failed: list[int] = []

    def start(self) -> None:
        """Start the workers now, e.g. while the roll is still being read, instead of lazily."""
        if self._workers > 1 and self._pool is None:
            self._pool = OrderedPool(
                _verify_in_worker, self._workers, _start_worker, self._key_args
            )

    def verify_ahead(self, pairs: bytes) -> None:
        """Start verifying the concatenated (hash, signature) pairs of the log's first entries,
        seq 0 on, before the log is read; ``add`` then reuses each result whose pair it gets.

        Nothing is queued to verify ahead without workers (there is no idle core to use).
        """
        count = len(pairs) // _PAIR
        if self._workers <= 1 or not count or self._ahead:
            return
        self.start()
        assert self._pool is not None, "started without a pool"
        self._ahead, self._confirmed = pairs[: count * _PAIR], bytearray(count)
        # In at least as many batches as workers, so that each has its share at once.
        size = min(self._batch_size, -(-count // self._workers))
        for first in range(0, count, size):
            seqs = array("q", range(first, min(first + size, count)))
            self._queued.append((seqs, True))
            batch = self._ahead[first * _PAIR : (first + len(seqs)) * _PAIR]
            self._collect(self._pool.submit(batch, wait=False))

    def add(self, seq: int, hash_raw: bytes, signature: bytes) -> None:
        if seq < len(self._confirmed):
            start = seq * _PAIR
            if self._ahead[start : start + _PAIR] == hash_raw + signature:
                self._confirmed[seq] = 1  # verified ahead: its result will count
                return
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
        # A result read ahead for a pair the log did not give (or not there) is no one's.
        self._failed += [seq for seq in self._ahead_failed if self._confirmed[seq]]
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
        self._queued.append((seqs, False))
        self._collect(self._pool.submit(batch))

    def _collect(self, done: list[list[int]]) -> None:
        for failed in done:
            seqs, ahead = self._queued.popleft()
            (self._ahead_failed if ahead else self._failed).extend(seqs[i] for i in failed)
