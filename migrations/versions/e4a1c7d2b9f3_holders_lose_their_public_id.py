"""Holders lose their public id: each meeting's roll gives its holders ids of its own
(roll_entries.public_id), so that no earlier meeting's bundle tells who cast an open
meeting's entries

Revision ID: e4a1c7d2b9f3
Revises: d5b8e2a7c914
Create Date: 2026-12-05 06:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e4a1c7d2b9f3'
down_revision = 'd5b8e2a7c914'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('holders', schema=None) as batch_op:
        batch_op.drop_constraint('uq_holders_public_id', type_='unique')
        batch_op.drop_column('public_id')


def downgrade():
    # Each holder gets a random id again (the ones dropped are gone).
    with op.batch_alter_table('holders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_id', sa.String(length=20), nullable=True))
    op.execute("UPDATE holders SET public_id = 'h-' || lower(hex(randomblob(8)))"
               if op.get_context().dialect.name == 'sqlite'
               else "UPDATE holders SET public_id = 'h-' || substr(md5(random()::text), 1, 16)")
    with op.batch_alter_table('holders', schema=None) as batch_op:
        batch_op.alter_column('public_id', existing_type=sa.String(length=20), nullable=False)
        batch_op.create_unique_constraint('uq_holders_public_id', ['public_id'])
