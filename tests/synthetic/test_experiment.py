"""Train and evaluate on the small world: the learned ranker beats distance-only."""

from __future__ import annotations

import base64
import json
import re

import pytest

from insertion_match.matcher import columns as C
from insertion_match.matcher.evaluation import store
from insertion_match.matcher.evaluation.report import TREND_KEYS, render_report
from insertion_match.synthetic.experiment import ExperimentConfig, evaluate, train, training_logs
from tests.synthetic.conftest import SMALL

CONFIG = ExperimentConfig(world=SMALL, n_bootstrap=300)


@pytest.fixture(scope="module")
def trained(small_world):
    return train(small_world, CONFIG)


@pytest.fixture(scope="module")
def result(small_world, trained):
    return evaluate(small_world, trained[0], CONFIG)


def test_training_uses_the_training_window_only(small_world, trained):
    _, card = trained
    cut = small_world.split_month(CONFIG.holdout_fraction)
    logs = training_logs(small_world, CONFIG)
    assert logs[C.MONTH].max() < cut <= small_world.logs[C.MONTH].max()
    assert card["data"]["rows"] == len(logs) and card["data"]["holdout_from_month"] == cut
    assert card["synthetic"] is True and "sex" not in " ".join(card["columns"])


def test_learned_beats_distance_only_with_an_interval_excluding_zero(result):
    head = result["headline"]
    assert head["metric"] == "ndcg@10" and head["reference"] == ["learned", "distance"]
    assert head["difference"]["low"] > 0
    ratio = head["ratio_to_oracle"]["mean"]
    assert 0.7 < ratio <= 1.05
    methods = result["methods"]
    assert set(methods) == {"random", "popularity", "distance", "transparent", "learned", "oracle"}
    assert methods["oracle"]["ndcg@10"]["mean"] > methods["random"]["ndcg@10"]["mean"]
    assert methods["learned"]["brier"] < methods["popularity"]["brier"] + 0.02


def test_result_reports_groups_calibration_and_set_up(result):
    assert set(result["groups"]) == {"sex", "age_band", "area", "territory"}
    cell = result["groups"]["sex"]["f"]["learned"]["success@5"]
    assert cell["low"] <= cell["mean"] <= cell["high"]
    assert result["synthetic"] is True and result["calibration"]
    assert result["spec"]["extra"]["split"].startswith("temporal")
    json.dumps(result)  # JSON-able as is


def test_runs_are_stored_trended_and_checked_for_regressions(tmp_path, result):
    first = store.save_run(result, tmp_path)
    second = store.save_run(result, tmp_path)
    runs = store.load_runs(tmp_path)
    assert [r["_path"] for r in runs] == sorted([str(first), str(second)])
    rows = store.trend(runs, list(TREND_KEYS))
    assert len(rows) == 2 and rows[0]["learned.ndcg@10"] == rows[1]["learned.ndcg@10"]
    rules = [("learned.ndcg@10", 0.01), ("learned.brier", 0.01)]
    assert store.check_regressions(runs[1], runs[0], rules) == []
    better = json.loads(json.dumps(runs[0]))
    better["methods"]["learned"]["ndcg@10"]["mean"] += 0.05
    better["methods"]["learned"]["brier"] -= 0.05
    found = store.check_regressions(runs[1], better, rules)
    assert [r.key for r in found] == ["learned.ndcg@10", "learned.brier"]
    assert "fell" in found[0].describe() and "rose" in found[1].describe()
    with pytest.raises(KeyError):
        store.check_regressions(runs[1], runs[0], [("learned.nope", 0.1)])


def test_report_is_one_html_file_with_png_plots(result):
    page = render_report({**result, "run_id": "abc", "created_at": "2024-01-01T00:00:00+00:00"},
                         store.trend([result, result], list(TREND_KEYS)), [])
    assert page.startswith("<!doctype html>") and "SYNTHETIC DATA" in page
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 5
    assert all(base64.b64decode(i)[:8] == b"\x89PNG\r\n\x1a\n" for i in images)
    assert "No regression" in page and "learned − distance" in page
