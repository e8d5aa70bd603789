"""A community's rules may shorten the handler's ticket deadlines (communities.ticket_deadlines_json):
RULES.md's deadlines are defaults, a community's may be stricter, never looser

Revision ID: 7c1d5f3a9e62
Revises: 5e2b8d41c9a7
Create Date: 2026-12-05 18:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c1d5f3a9e62'
down_revision = '5e2b8d41c9a7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('communities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ticket_deadlines_json', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('communities', schema=None) as batch_op:
        batch_op.drop_column('ticket_deadlines_json')
