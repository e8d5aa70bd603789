"""Pending casts: a cast that finds its meeting's lock taken waits here to be appended in a
batch (group commit, issue 14 §2)

Revision ID: 7c3e9b1a4f52
Revises: 9a4e1c7b3d20
Create Date: 2026-12-04 00:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c3e9b1a4f52'
down_revision = '9a4e1c7b3d20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'pending_casts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('holder_id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=10), nullable=False),
        sa.Column('choices', sa.Text(), nullable=True),
        sa.Column('evidence', sa.Text(), nullable=True),
        sa.Column('entered_by_id', sa.Integer(), nullable=True),
        sa.Column('units', sa.Text(), nullable=False),
        sa.Column('phones', sa.Text(), nullable=True),
        sa.Column('request_key', sa.String(length=64), nullable=True),
        sa.Column('request_digest', sa.String(length=64), nullable=True),
        sa.Column('locale', sa.String(length=10), nullable=True),
        sa.Column('requested_at', sa.DateTime(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=True),
        sa.Column('hash', sa.String(length=64), nullable=True),
        sa.Column('at', sa.DateTime(), nullable=True),
        sa.Column('ballot', sa.String(length=20), nullable=True),
        sa.Column('area', sa.BigInteger(), nullable=True),
        sa.Column('headcount', sa.Integer(), nullable=True),
        sa.Column('is_replay', sa.Boolean(), nullable=False),
        sa.Column('refusal', sa.String(length=40), nullable=True),
        sa.Column('message', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['entered_by_id'], ['users.id'], name=op.f('fk_pending_casts_entered_by_id_users')),
        sa.ForeignKeyConstraint(['holder_id'], ['holders.id'], name=op.f('fk_pending_casts_holder_id_holders')),
        sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_pending_casts_meeting_id_meetings')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_casts')),
    )
    with op.batch_alter_table('pending_casts', schema=None) as batch_op:
        batch_op.create_index(
            'ix_pending_casts_waiting',
            ['meeting_id', 'id'],
            unique=False,
            sqlite_where=sa.text("status = 'waiting'"),
            postgresql_where=sa.text("status = 'waiting'"),
        )


def downgrade():
    with op.batch_alter_table('pending_casts', schema=None) as batch_op:
        batch_op.drop_index(
            'ix_pending_casts_waiting',
            sqlite_where=sa.text("status = 'waiting'"),
            postgresql_where=sa.text("status = 'waiting'"),
        )
    op.drop_table('pending_casts')
