"""Merkle tree beside each log: the head's frontier and whole blocks' hashes

Logs written before get both from their entries' hashes (spec checkpoints-v1
§1: RFC 9162 leaves and nodes; blocks of 256 entries), computed here as
voting.domain.merkle and voting.services.assembly.tree defined them when this
was written.

Revision ID: acfc912e7a78
Revises: 0f1ea422096e
Create Date: 2026-12-03 16:20:17.325774

"""
import hashlib

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'acfc912e7a78'
down_revision = '0f1ea422096e'
branch_labels = None
depends_on = None

BLOCK_HEIGHT = 8


def upgrade():
    op.create_table('log_subtrees',
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('block', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_log_subtrees_meeting_id_meetings')),
    sa.PrimaryKeyConstraint('meeting_id', 'block', name=op.f('pk_log_subtrees'))
    )
    with op.batch_alter_table('meeting_heads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('frontier', sa.LargeBinary(), nullable=True))
    _fill(op.get_bind())
    with op.batch_alter_table('meeting_heads', schema=None) as batch_op:
        batch_op.alter_column('frontier', existing_type=sa.LargeBinary(), nullable=False)


def _fill(connection):
    heads = connection.execute(sa.text("SELECT meeting_id, seq FROM meeting_heads")).all()
    for meeting_id, seq in heads:
        hashes = connection.execute(
            sa.text(
                "SELECT hash FROM log_entries WHERE meeting_id = :meeting AND seq <= :seq"
                " ORDER BY seq"
            ),
            {"meeting": meeting_id, "seq": seq},
        ).scalars()
        roots, blocks = [], []
        for size, entry_hash in enumerate(hashes, start=1):
            node = hashlib.sha256(b"\x00" + bytes.fromhex(entry_hash)).digest()
            height, grown = 0, size - 1
            while grown & 1:
                node = hashlib.sha256(b"\x01" + roots.pop() + node).digest()
                height, grown = height + 1, grown >> 1
                if height == BLOCK_HEIGHT:
                    blocks.append({"meeting": meeting_id, "block": (size >> BLOCK_HEIGHT) - 1,
                                   "hash": node.hex()})
            roots.append(node)
        if blocks:
            connection.execute(
                sa.text("INSERT INTO log_subtrees (meeting_id, block, hash)"
                        " VALUES (:meeting, :block, :hash)"),
                blocks,
            )
        connection.execute(
            sa.text("UPDATE meeting_heads SET frontier = :frontier WHERE meeting_id = :meeting"),
            {"frontier": b"".join(roots), "meeting": meeting_id},
        )


def downgrade():
    with op.batch_alter_table('meeting_heads', schema=None) as batch_op:
        batch_op.drop_column('frontier')

    op.drop_table('log_subtrees')
