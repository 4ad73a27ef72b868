"""Learners never read the hidden truth: enforced on the import graph."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "insertion_match"


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def test_nothing_in_matcher_features_or_geo_imports_the_synthetic_world():
    for sub in ("matcher", "features", "geo"):
        for path in (PACKAGE / sub).rglob("*.py"):
            bad = {m for m in imports_of(path) if m.startswith("insertion_match.synthetic")}
            assert not bad, f"{path.relative_to(PACKAGE)} imports {bad}"


def test_only_the_world_generator_imports_the_hidden_outcome_model():
    users = {path.relative_to(PACKAGE).as_posix() for path in PACKAGE.rglob("*.py")
             if any(m.startswith("insertion_match.synthetic.outcome_model")
                    for m in imports_of(path))}
    assert users == {"synthetic/world.py"}
