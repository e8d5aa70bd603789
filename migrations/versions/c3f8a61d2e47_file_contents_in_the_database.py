"""Uploaded files kept in the database (file_contents), not on an app host's disk, so that
every app host serves every file (issue 14 §3)

Revision ID: c3f8a61d2e47
Revises: b7d3f19a2c60
Create Date: 2026-12-05 14:30:00.000000

The files are read from ``instance/uploads/<first two hex digits>/<sha256>``, or from the
folder given as ``flask db upgrade -x upload_dir=PATH`` (where several hosts each kept some:
gather them into one folder first). If upload rows exist and none of their files is in that
folder, the migration stops rather than leave every download a 404 with nothing left to copy
them in: ``-x uploads_missing_ok=1`` says the files are gone for good.
"""
import hashlib
import os
from datetime import datetime, timezone
from pathlib import Path

from alembic import context, op
from flask import current_app
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3f8a61d2e47'
down_revision = 'b7d3f19a2c60'
branch_labels = None
depends_on = None


def _options() -> dict:
    return context.get_x_argument(as_dictionary=True)


def _upload_dir() -> Path:
    given = _options().get("upload_dir")
    return Path(given) if given else current_app.config["SETTINGS"].instance_path / "uploads"


def upgrade():
    # Checked before anything is changed: SQLite's DDL is not rolled back on a refusal.
    connection = op.get_bind()
    folder = _upload_dir()
    digests = connection.execute(sa.text("SELECT DISTINCT sha256 FROM uploads")).scalars().all()
    found = [digest for digest in digests if (folder / digest[:2] / digest).is_file()]
    if digests and not found and _options().get("uploads_missing_ok") != "1":
        raise RuntimeError(
            f"none of the {len(digests)} uploaded files the database names is in {folder}: "
            "run this on the host that kept them, or gather every host's instance/uploads "
            "into one folder and give it as -x upload_dir=PATH "
            "(-x uploads_missing_ok=1 if they are gone for good)"
        )
    file_contents = op.create_table(
        'file_contents',
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('kept_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('sha256', name=op.f('pk_file_contents')),
    )
    with op.batch_alter_table('file_contents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_file_contents_kept_at'), ['kept_at'], unique=False)

    # One file at a time (a file may be 10 MB). A file that is not there, or not what its
    # name says, could not be downloaded as itself before either: it is said, not copied.
    now = datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None)
    for digest in digests:
        path = folder / digest[:2] / digest
        if not path.is_file():
            print(f"file_contents: no file for upload {digest} in {folder}")
            continue
        content = path.read_bytes()
        if hashlib.sha256(content).hexdigest() != digest:
            print(f"file_contents: {path} is not the file its name says; not copied")
            continue
        connection.execute(
            file_contents.insert().values(sha256=digest, content=content, kept_at=now)
        )


def downgrade():
    connection = op.get_bind()
    folder = _upload_dir()
    digests = connection.execute(sa.text("SELECT sha256 FROM file_contents")).scalars().all()
    for digest in digests:  # one file at a time, written whole or not at all
        path = folder / digest[:2] / digest
        if path.exists():
            continue
        content = connection.execute(
            sa.text("SELECT content FROM file_contents WHERE sha256 = :digest"),
            {"digest": digest},
        ).scalar_one()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = path.with_suffix(".part")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        partial.replace(path)
    with op.batch_alter_table('file_contents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_file_contents_kept_at'))
    op.drop_table('file_contents')
