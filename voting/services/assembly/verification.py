"""The public check of a printed result: anyone holding a certified result (a court, a notary,
the bureau's clerk) opens the address in its QR code, ``/verify/<meeting id>/<head hash>``,
and sees whether that hash is the meeting's final log head, without signing in.

Keyed by the head hash, which only the printed result and the bundle carry, so the page
cannot be used to list meetings: an unknown id, a wrong hash and a meeting not yet tallied
all give the same ``None``. What it returns names no holder and no choice: the outcome per
motion, the dates, the certification and the keys.

The bundle itself is not offered here: its ballots list each holder's choices under an
opaque id, and its roll gives that id's unit count and area, which in a known estate can
single out an owner (the developer, a buyer of several flats, an unusual size). Parties
with a need for it get it from the committee, the street office or the bureau.

``verifier_archive`` is the verifier (``scripts/verify_bundle.py`` and the pure
``voting/domain``) with the attesting tool (``scripts/attest.py``) and the auditors' guide, as
one ZIP for those who have no copy of the source: a street office verifies, attests and
uploads with nothing else.
"""

from __future__ import annotations

import hmac
import io
import zipfile
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from sqlalchemy import select

from voting.domain.canonical import is_hash, is_identifier, parse_time
from voting.extensions import db
from voting.models import Meeting, MeetingState
from voting.services import keys
from voting.services.assembly import certify, meetings, outcomes
from voting.services.assembly.certificate import fingerprint_of
from voting.services.assembly.outcomes import MeetingOutcome

ROOT = Path(__file__).resolve().parents[3]  # the source tree: voting/, scripts/, docs/
VERIFIER_FILES = (
    "scripts/verify_bundle.py",
    "scripts/attest.py",
    "scripts/witness.py",
    "voting/__init__.py",
    "docs/auditors.md",
)
VERIFIER_FOLDER = "owner-assembly-verifier"


@dataclass(frozen=True)
class Attested:
    """One attestation of the head: who signed, when, with which key."""

    role: str
    name: str
    at: datetime
    key: str
    fingerprint: str


@dataclass(frozen=True)
class Verification:
    outcome: MeetingOutcome
    certification: certify.Certification
    attestations: list[Attested]
    log_key: str
    log_fingerprint: str

    @property
    def meeting(self) -> Meeting:
        return self.outcome.meeting

    def attested_by(self, role: str) -> Attested | None:
        return next((a for a in self.attestations if a.role == role), None)


def find(public_id: str, head_hash: str) -> Verification | None:
    """The tallied meeting ``public_id`` if ``head_hash`` is its final head; else None."""
    claimed = head_hash.strip().lower()
    if not is_hash(claimed) or not is_identifier(public_id):
        return None
    meeting = db.session.scalar(select(Meeting).where(Meeting.public_id == public_id))
    if meeting is None or meeting.state != MeetingState.tallied:
        return None
    head = meetings.head(meeting)
    if head is None or not hmac.compare_digest(head.hash, claimed):
        return None
    outcome = outcomes.of(meeting)
    if outcome is None or meeting.key_fingerprint is None:
        return None
    return Verification(
        outcome=outcome,
        certification=certify.state(meeting),
        attestations=[
            Attested(a["role"], a["name"], parse_time(a["at"]), a["key"], fingerprint_of(a["key"]))
            for a in certify.attestations(meeting)
        ],
        log_key=keys.public_text(meeting.key_fingerprint),
        log_fingerprint=meeting.key_fingerprint,
    )


def has_verifier() -> bool:
    """Whether this deployment carries the verifier's source (a checkout, not a wheel)."""
    return all((ROOT / name).is_file() for name in VERIFIER_FILES)


@cache
def verifier_archive() -> bytes:
    """The verifier as a ZIP, the same bytes for the same source (fixed times, sorted)."""
    names = sorted([*VERIFIER_FILES, *(p.relative_to(ROOT).as_posix() for p in _domain_files())])
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in names:
            info = zipfile.ZipInfo(f"{VERIFIER_FOLDER}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, (ROOT / name).read_bytes())
    return out.getvalue()


def _domain_files() -> list[Path]:
    return sorted((ROOT / "voting" / "domain").glob("*.py"))
