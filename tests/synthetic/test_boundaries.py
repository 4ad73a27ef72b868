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


#: What the transparent scorer computes its terms with: the hidden model must use none of it.
SCORER_MODULES = ("insertion_match.matcher", "insertion_match.features")
HIDDEN = ("synthetic/outcome_model.py", "synthetic/population.py")


def _public_names(relative: str) -> set[str]:
    tree = ast.parse((PACKAGE / relative).read_text(encoding="utf-8"))
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)
            and not n.name.startswith("_")}


def test_the_hidden_outcome_model_imports_nothing_of_the_scorer():
    for relative in HIDDEN:
        bad = {m for m in imports_of(PACKAGE / relative) if m.startswith(SCORER_MODULES)}
        assert not bad, f"{relative} imports {bad}"


def test_the_hidden_outcome_model_calls_none_of_the_scorer_term_functions():
    scorer_names = (_public_names("matcher/scoring.py")
                    | _public_names("features/action_features.py")) - {"annotations"}
    assert {"term_features", "reach_values", "action_features", "ScorerWeights"} <= scorer_names
    tree = ast.parse((PACKAGE / "synthetic/outcome_model.py").read_text(encoding="utf-8"))
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    assert not used & scorer_names, used & scorer_names


def test_the_hidden_outcome_model_reads_no_scorer_column_nor_catalogue_tag():
    from insertion_match.synthetic import outcome_model
    from insertion_match.synthetic.world import DESIGN_COLUMNS

    scorer_columns = {"main_frein", "main_match", "need_total", "itinerant", "travel_minutes",
                      "occupancy", "places", "cost_eur", "outcome_rate", "history", "category",
                      *DESIGN_COLUMNS}
    assert set(outcome_model.PAIR_COLUMNS) == {"item_id", "distance_km"}
    assert not set(outcome_model.PAIR_COLUMNS) & scorer_columns
    header = outcome_model.EFFECTS_PATH.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert not {"freins", "frein", "itinerant", "places", "participants", "category",
                "outcome_rate"} & set(header), header
