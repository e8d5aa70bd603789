"""Each frozen roll entry keeps the labels of its holder's units (roll_entries.unit_labels):
a roll import during the vote moved a sold flat to its buyer, and the meeting's pages (who
has not voted, paper entry, the ballot) and the receipt's SMS no longer named it

Revision ID: a9c4e1f07b3d
Revises: c3f8a61d2e47
Create Date: 2026-12-05 17:20:00.000000

The rows already frozen get the labels their holders' units have now: the nearest there is
to what they were (a unit moved since is not named by its former holder).
"""
from itertools import groupby
from operator import itemgetter

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a9c4e1f07b3d'
down_revision = 'c3f8a61d2e47'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('roll_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_labels', sa.Text(), nullable=False, server_default=''))
    connection = op.get_bind()
    # As voting.models.registry.unit_label writes them: building, entrance and room, joined
    # by "-", the empty ones left out.
    rows = connection.execute(
        sa.text(
            "SELECT r.meeting_id, r.holder_id, b.name, u.entrance, u.room FROM roll_entries r"
            " JOIN units u ON u.holder_id = r.holder_id"
            " JOIN buildings b ON b.id = u.building_id"
            " ORDER BY r.meeting_id, r.holder_id, u.id"
        )
    )
    labelled = [
        {
            "meeting_id": meeting_id,
            "holder_id": holder_id,
            "labels": "\n".join("-".join(part for part in row[2:] if part) for row in group),
        }
        for (meeting_id, holder_id), group in groupby(rows, key=itemgetter(0, 1))
    ]
    if labelled:
        connection.execute(
            sa.text(
                "UPDATE roll_entries SET unit_labels = :labels"
                " WHERE meeting_id = :meeting_id AND holder_id = :holder_id"
            ),
            labelled,
        )


def downgrade():
    with op.batch_alter_table('roll_entries', schema=None) as batch_op:
        batch_op.drop_column('unit_labels')
