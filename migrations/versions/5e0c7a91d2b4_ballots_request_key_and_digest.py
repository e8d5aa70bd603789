"""Ballots remember the request that cast them (idempotent casting, issue 9 §2)

The SHA-256 of the client's Idempotency-Key, unique per meeting, and of the request
(holder and choices): a retry gets the original receipt, never a second ballot or
"already voted".

Revision ID: 5e0c7a91d2b4
Revises: 443d861e3edf
Create Date: 2026-12-04 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e0c7a91d2b4'
down_revision = '443d861e3edf'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('request_digest', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f('uq_ballots_meeting_id_request_key'), ['meeting_id', 'request_key']
        )


def downgrade():
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_ballots_meeting_id_request_key'), type_='unique')
        batch_op.drop_column('request_digest')
        batch_op.drop_column('request_key')
