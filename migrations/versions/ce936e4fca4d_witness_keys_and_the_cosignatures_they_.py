"""Witness keys and the cosignatures they made

Revision ID: ce936e4fca4d
Revises: acfc912e7a78
Create Date: 2026-12-03 16:30:43.095321

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'ce936e4fca4d'
down_revision = 'acfc912e7a78'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('cosignatures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('office_key_id', sa.Integer(), nullable=False),
    sa.Column('line', sa.Text(), nullable=False),
    sa.Column('cosigned_at', sa.DateTime(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_cosignatures_meeting_id_meetings')),
    sa.ForeignKeyConstraint(['office_key_id'], ['office_keys.id'], name=op.f('fk_cosignatures_office_key_id_office_keys')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cosignatures')),
    sa.UniqueConstraint('meeting_id', 'size', 'office_key_id', name=op.f('uq_cosignatures_meeting_id_size_office_key_id'))
    )
    with op.batch_alter_table('cosignatures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cosignatures_meeting_id'), ['meeting_id'], unique=False)

    with op.batch_alter_table('office_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attests', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('witnesses', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('office_keys', schema=None) as batch_op:
        batch_op.drop_column('witnesses')
        batch_op.drop_column('attests')

    with op.batch_alter_table('cosignatures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cosignatures_meeting_id'))

    op.drop_table('cosignatures')
