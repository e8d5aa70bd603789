"""One objection at a time per credit record (numbered per record) and one open position
per firm, person and role

Revision ID: b7d3f19a2c60
Revises: e4a1c7d2b9f3
Create Date: 2026-12-05 08:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d3f19a2c60'
down_revision = 'e4a1c7d2b9f3'
branch_labels = None
depends_on = None


def upgrade():
    # Objections already filed are signed entries of the credit register and stay, however
    # many: they are numbered in the order they were filed, so none collide.
    with op.batch_alter_table('credit_objections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('number', sa.Integer(), nullable=True))
    op.execute(
        "UPDATE credit_objections SET number = ("
        " SELECT count(*) FROM credit_objections AS earlier"
        " WHERE earlier.record_id = credit_objections.record_id"
        " AND earlier.id <= credit_objections.id)"
    )
    with op.batch_alter_table('credit_objections', schema=None) as batch_op:
        batch_op.alter_column('number', existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint(
            'uq_credit_objections_record_id_number', ['record_id', 'number']
        )

    # A person entered twice in one role at one firm, both still open: the earliest-started
    # position already covers the later ones' days, so the later copies go (nothing refers
    # to a position).
    op.execute(
        "DELETE FROM firm_positions WHERE ended_on IS NULL AND EXISTS ("
        " SELECT 1 FROM firm_positions AS kept"
        " WHERE kept.firm_id = firm_positions.firm_id"
        " AND kept.person_id = firm_positions.person_id"
        " AND kept.role = firm_positions.role"
        " AND kept.ended_on IS NULL"
        " AND (kept.started_on < firm_positions.started_on"
        " OR (kept.started_on = firm_positions.started_on AND kept.id < firm_positions.id)))"
    )
    with op.batch_alter_table('firm_positions', schema=None) as batch_op:
        batch_op.create_index(
            'uq_firm_positions_open',
            ['firm_id', 'person_id', 'role'],
            unique=True,
            sqlite_where=sa.text('ended_on IS NULL'),
            postgresql_where=sa.text('ended_on IS NULL'),
        )


def downgrade():
    # The copies deleted on upgrade are not restored.
    with op.batch_alter_table('firm_positions', schema=None) as batch_op:
        batch_op.drop_index(
            'uq_firm_positions_open',
            sqlite_where=sa.text('ended_on IS NULL'),
            postgresql_where=sa.text('ended_on IS NULL'),
        )
    with op.batch_alter_table('credit_objections', schema=None) as batch_op:
        batch_op.drop_constraint('uq_credit_objections_record_id_number', type_='unique')
        batch_op.drop_column('number')
