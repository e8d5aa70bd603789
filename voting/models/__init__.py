"""Typed SQLAlchemy models, one module per aggregate; imported here so Alembic sees them all."""

from voting.models.accounts import LoginSession, Role, RoleGrant, User
from voting.models.base import Base
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

__all__ = [
    "AreaSource",
    "Base",
    "Building",
    "Community",
    "District",
    "Holder",
    "HolderKind",
    "LoginSession",
    "Owner",
    "Role",
    "RoleGrant",
    "StreetOffice",
    "Unit",
    "UnitKind",
    "User",
]
