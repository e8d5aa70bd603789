"""Fixtures for the voting core's tests: the spec's example bundle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

# The spec's test vector (shared/spec/example-bundle.json), copied byte for byte.
EXAMPLE = Path(__file__).resolve().parents[1] / "bundles" / "valid-spec-example.json"


@pytest.fixture
def example_path() -> Path:
    return EXAMPLE


@pytest.fixture
def example(example_path: Path) -> dict[str, Any]:
    return json.loads(example_path.read_text(encoding="utf-8"))
