"""Pending casts: when each was answered, so that answered rows are pruned (group commit,
issue 14 §2)

Revision ID: d5b8e2a7c914
Revises: 7c3e9b1a4f52
Create Date: 2026-12-04 10:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5b8e2a7c914'
down_revision = '7c3e9b1a4f52'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('pending_casts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answered_at', sa.DateTime(), nullable=True))
    # Rows answered before the column existed: their request time is close enough to be
    # pruned with the others.
    op.execute("UPDATE pending_casts SET answered_at = requested_at WHERE status <> 'waiting'")


def downgrade():
    with op.batch_alter_table('pending_casts', schema=None) as batch_op:
        batch_op.drop_column('answered_at')
