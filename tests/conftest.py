"""Shared fixtures: the bundled Lạng Sơn dataset, the tiny synthetic province, and file builders."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from landuse.classification import load_classification
from landuse.dataset import DEFAULT_DATASET, load_dataset

TESTS = Path(__file__).resolve().parent
TEST_DATA = TESTS / "data"
MINI = TEST_DATA / "mini"


@pytest.fixture(scope="session")
def langson():
    return load_dataset(DEFAULT_DATASET)


@pytest.fixture(scope="session")
def vn2024():
    return load_classification("vn2024")


@pytest.fixture
def mini_copy(tmp_path) -> Path:
    """A writable copy of the tiny synthetic province dataset."""
    dst = tmp_path / "mini"
    shutil.copytree(MINI, dst)
    return dst


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path
