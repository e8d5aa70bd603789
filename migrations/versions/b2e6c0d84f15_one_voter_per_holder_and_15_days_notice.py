"""One voter per holder (a partial unique index on owners) and every community's notice
period at least 15 days: data the earlier code let in

Revision ID: b2e6c0d84f15
Revises: 7c1d5f3a9e62
Create Date: 2026-12-05 18:20:00.000000

- A 表决人 naming two co-owners of one name made both the voter. Of such a holder's voters
  the first (the 业主 column's, written first) stays the voter, as when no 表决人 is named;
  a roll import that names one by phone (张伟(13800000001)) chooses another.
- The bureau's form took a notice period of 1 day, where RULES.md says 15 at least: shorter
  ones become 15. (Going back keeps both: the index goes, the periods stay.)
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b2e6c0d84f15'
down_revision = '7c1d5f3a9e62'
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        sa.text(
            "UPDATE owners SET is_voter = false WHERE is_voter AND id > ("
            "SELECT min(o.id) FROM owners o WHERE o.holder_id = owners.holder_id AND o.is_voter)"
        )
    )
    op.execute(sa.text("UPDATE communities SET notice_days = 15 WHERE notice_days < 15"))
    with op.batch_alter_table('owners', schema=None) as batch_op:
        batch_op.create_index(
            'uq_owners_one_voter',
            ['holder_id'],
            unique=True,
            sqlite_where=sa.text('is_voter'),
            postgresql_where=sa.text('is_voter'),
        )


def downgrade():
    with op.batch_alter_table('owners', schema=None) as batch_op:
        batch_op.drop_index('uq_owners_one_voter')
