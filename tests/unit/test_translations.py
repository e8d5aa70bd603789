"""Every string the UI shows has an English translation, and the catalogue is current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "voting/translations/en/LC_MESSAGES/messages.po"


def test_every_string_is_translated_to_english():
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    missing = [m.id for m in catalogue if m.id and not m.string]
    fuzzy = [m.id for m in catalogue if m.id and m.fuzzy]
    assert missing == [] and fuzzy == []


def test_catalogue_has_every_string_in_the_sources(tmp_path):
    template = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "babel.cfg",
         "-k", "_l", "-k", "_lp:1c,2", "-o", str(template), "."],
        cwd=ROOT, check=True,
    )  # fmt: skip
    with template.open("rb") as handle:
        in_sources = {(m.context, m.id) for m in read_po(handle) if m.id}
    with CATALOGUE.open("rb") as handle:
        in_catalogue = {(m.context, m.id) for m in read_po(handle) if m.id}
    assert in_sources - in_catalogue == set(), "run scripts/i18n and translate the new strings"
