"""Uploaded files kept in the database (file_contents), not on an app host's disk, so that
every app host serves every file (issue 14 §3)

Revision ID: c3f8a61d2e47
Revises: b7d3f19a2c60
Create Date: 2026-12-05 14:30:00.000000

"""
from datetime import datetime, timezone
from pathlib import Path

from alembic import op
from flask import current_app
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3f8a61d2e47'
down_revision = 'b7d3f19a2c60'
branch_labels = None
depends_on = None


def _upload_dir() -> Path:
    """Where the files were kept: ``instance/uploads/<first two hex digits>/<sha256>``."""
    return current_app.config["SETTINGS"].instance_path / "uploads"


def upgrade():
    file_contents = op.create_table(
        'file_contents',
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('kept_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('sha256', name=op.f('pk_file_contents')),
    )
    with op.batch_alter_table('file_contents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_file_contents_kept_at'), ['kept_at'], unique=False)

    # Each file a row names is copied in, one at a time (a file may be 10 MB). A file that is
    # not there any more could not be downloaded before either; it is said, not invented.
    connection = op.get_bind()
    folder = _upload_dir()
    now = datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None)
    digests = connection.execute(sa.text("SELECT DISTINCT sha256 FROM uploads")).scalars().all()
    for digest in digests:
        path = folder / digest[:2] / digest
        if not path.is_file():
            print(f"file_contents: no file for upload {digest} in {folder}")
            continue
        connection.execute(
            file_contents.insert().values(sha256=digest, content=path.read_bytes(), kept_at=now)
        )


def downgrade():
    connection = op.get_bind()
    folder = _upload_dir()
    for digest, content in connection.execute(sa.text("SELECT sha256, content FROM file_contents")):
        path = folder / digest[:2] / digest
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            path.write_bytes(content)
            path.chmod(0o600)
    with op.batch_alter_table('file_contents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_file_contents_kept_at'))
    op.drop_table('file_contents')
