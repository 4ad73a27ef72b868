"""Shared fixtures of the geo tests: the real gazetteer and territories, loaded once."""

from __future__ import annotations

from pathlib import Path

import pytest

from insertion_match.geo import Gazetteer, Territories

DATA_DIR = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA_DIR


@pytest.fixture(scope="session")
def gazetteer() -> Gazetteer:
    return Gazetteer.load(DATA_DIR)


@pytest.fixture(scope="session")
def territories() -> Territories:
    return Territories.load(DATA_DIR)
