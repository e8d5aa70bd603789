"""Every example bundle gives the outcome its README row labels it with."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
from pathlib import Path
from types import ModuleType

import pytest

from tests.bundles.make_bundles import BUNDLES, PROOFS, RECEIPTS, write_all

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ROW = re.compile(
    r"^\| `(?P<file>[^`]+)` \|\s*(?P<options>[^|]*?)\s*\|\s*(?P<exit>\d)\s*\|\s*(?P<checks>[\d ]*?)\s*\|"
)


def labelled() -> list[tuple[str, list[str], int, set[int]]]:
    rows = []
    for line in (HERE / "README.md").read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            options = shlex.split(match["options"].replace("`", ""))
            checks = {int(check) for check in match["checks"].split()}
            rows.append((match["file"], options, int(match["exit"]), checks))
    return rows


@pytest.fixture(scope="module")
def cli() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "verify_bundle_cli", ROOT / "scripts/verify_bundle.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("name", "options", "exit_code", "checks"), labelled())
def test_the_verifier_gives_the_labelled_outcome(
    cli: ModuleType,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    options: list[str],
    exit_code: int,
    checks: set[int],
) -> None:
    monkeypatch.chdir(ROOT)  # the options name files from the repository's root
    assert cli.main([str(HERE / name), "--json", *options]) == exit_code
    report = json.loads(capsys.readouterr().out)
    assert {problem["check"] for problem in report["problems"]} == checks


def test_every_bundle_in_the_folder_is_labelled() -> None:
    files = {path.name for path in HERE.glob("*.json")}
    assert files == {name for name, *_ in labelled()}
    assert set(BUNDLES) <= files


def test_the_files_are_what_make_bundles_writes(tmp_path: Path) -> None:
    write_all(tmp_path)
    for name in BUNDLES:
        assert (tmp_path / name).read_bytes() == (HERE / name).read_bytes(), name
    for name in PROOFS:
        assert (tmp_path / RECEIPTS / name).read_bytes() == (HERE / RECEIPTS / name).read_bytes()
