"""Rejected tickets go up by themselves (RULES.md, Escalation), not only complaints the firm
rejected: those already waiting for their owner are woken now, and no owner's window is
their deadline any more

Revision ID: 5e2b8d41c9a7
Revises: a9c4e1f07b3d
Create Date: 2026-12-05 17:40:00.000000

The next sweep (``tickets sweep``, every minute) sends each to the street office.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e2b8d41c9a7'
down_revision = 'a9c4e1f07b3d'
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        sa.text("UPDATE tickets SET wake_at = stage_at, due_at = NULL WHERE state = 'rejected'")
    )


def downgrade():
    # Nothing to restore: within a minute of the upgrade the sweep had sent every rejected
    # ticket up, and only one rejected since (and not yet swept) is left without a window.
    pass
