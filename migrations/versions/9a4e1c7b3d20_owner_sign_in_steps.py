"""Owner sign-in steps: the number awaiting its code, kept on the server (issue 9 §6)

The signed session cookie is readable by whoever holds it; it now carries only a
random token for the step, never the owner's mobile number.

Revision ID: 9a4e1c7b3d20
Revises: 5e0c7a91d2b4
Create Date: 2026-12-03 20:40:00.000000

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = '9a4e1c7b3d20'
down_revision = '5e0c7a91d2b4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'owner_sign_in_steps',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('phone', sa.String(length=11), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_owner_sign_in_steps')),
    )
    with op.batch_alter_table('owner_sign_in_steps', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_owner_sign_in_steps_created_at'), ['created_at'], unique=False
        )


def downgrade():
    with op.batch_alter_table('owner_sign_in_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_owner_sign_in_steps_created_at'))
    op.drop_table('owner_sign_in_steps')
