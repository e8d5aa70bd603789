"""Who recorded the publication of a meeting's results

Revision ID: 443d861e3edf
Revises: bfd4c1213a89
Create Date: 2026-12-03 17:32:39.660123

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '443d861e3edf'
down_revision = 'bfd4c1213a89'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('results_published_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_meetings_results_published_by_id_users'), 'users', ['results_published_by_id'], ['id'])



def downgrade():
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_meetings_results_published_by_id_users'), type_='foreignkey')
        batch_op.drop_column('results_published_by_id')

