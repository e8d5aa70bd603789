"""Typed SQLAlchemy models, one module per aggregate; imported here so Alembic sees them all."""

from voting.models.accounts import LoginSession, OtpChallenge, RateCounter, Role, RoleGrant, User
from voting.models.audit import Attestation, AuditRun, OfficeKey
from voting.models.base import Base
from voting.models.credit import Firm
from voting.models.ledger import Ballot, BallotConflict, Channel, LogEntry, MeetingHead, PaperBallot
from voting.models.meetings import (
    Candidate,
    Meeting,
    MeetingForm,
    MeetingState,
    MeetingTransition,
    Motion,
    MotionDocument,
    MotionKind,
    RollEntry,
)
from voting.models.registry import (
    AreaSource,
    Building,
    Community,
    District,
    Holder,
    HolderKind,
    Owner,
    StreetOffice,
    Unit,
    UnitKind,
)
from voting.models.sms import SmsMessage
from voting.models.uploads import Upload

__all__ = [
    "AreaSource",
    "Attestation",
    "AuditRun",
    "Ballot",
    "BallotConflict",
    "Base",
    "Building",
    "Candidate",
    "Channel",
    "Community",
    "District",
    "Firm",
    "Holder",
    "HolderKind",
    "LogEntry",
    "LoginSession",
    "Meeting",
    "MeetingForm",
    "MeetingHead",
    "MeetingState",
    "MeetingTransition",
    "Motion",
    "MotionDocument",
    "MotionKind",
    "OfficeKey",
    "OtpChallenge",
    "Owner",
    "PaperBallot",
    "RateCounter",
    "Role",
    "RoleGrant",
    "RollEntry",
    "SmsMessage",
    "StreetOffice",
    "Unit",
    "UnitKind",
    "Upload",
    "User",
]
