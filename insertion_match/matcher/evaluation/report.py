"""The HTML report of an evaluation run: one self-contained file, plots embedded as PNG.

Plots are drawn with matplotlib (Agg backend, no display needed) and embedded as base64 ``data:``
URIs, so the file can be mailed or archived as is. Its readers are départements' teams: labels
are in French (method keys and metric keys stay as in the JSON, in ``code``). Sections: headline,
set-up (split, k, candidates, hyper-parameters), metrics per method, NDCG with confidence
intervals, calibration (reliability curves), fairness (the table of ratios per group, rows
outside the [0.8, 1.25] band marked, then success and exposure per group), trend over the stored
runs, the synthetic world's calibration table, the model's weights. The judged test collection
(matcher/evaluation/judged.py) closes it when the run has one.
"""

from __future__ import annotations

import base64
import html
import io
import math
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

METHOD_COLOURS = {"random": "#9e9e9e", "popularity": "#8d6e63", "distance": "#ef6c00",
                  "transparent": "#1e88e5", "learned": "#2e7d32", "oracle": "#6a1b9a"}
METHOD_LABELS = {"random": "aléatoire", "popularity": "popularité", "distance": "distance seule",
                 "transparent": "transparent", "learned": "appris", "oracle": "oracle"}
DIMENSION_LABELS = {"sex": "sexe", "age_band": "tranche d'âge",
                    "area": "zone (rurale / urbaine / QPV)", "territory": "territoire"}
GROUP_LABELS = {"f": "femmes", "m": "hommes", "rural": "rurale", "urban": "urbaine",
                "qpv": "QPV"}
METRIC_LABELS = {"exposure@5": "exposition à l'emploi (top 5)",
                 "success@5": "taux de succès (top 5)"}
#: Methods shown in the fairness table of the report (the JSON has every method).
FAIRNESS_METHODS = ("distance", "transparent", "learned", "oracle")
TREND_KEYS = ("learned.ndcg@10", "transparent.ndcg@10", "distance.ndcg@10", "oracle.ndcg@10")

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{margin-bottom:0}.synthetic{background:#fff3cd;border:1px solid #e0b000;padding:.6em 1em;
margin:1em 0;font-weight:600}table{border-collapse:collapse;margin:.8em 0;font-size:.9em}
td,th{border:1px solid #ccc;padding:.25em .5em;text-align:right}th{background:#f3f3f3}
td.l,th.l{text-align:left}.bad{color:#b00020;font-weight:600}.ok{color:#2e7d32}
tr.out{background:#fdecea}
img{max-width:100%;border:1px solid #eee;margin:.5em 0}code{background:#f5f5f5;padding:0 .2em}
"""


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _img(data: str, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _f(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return html.escape(str(value))


def _ci(cell: dict | None, digits: int = 3) -> str:
    if not cell:
        return "–"
    return f"{_f(cell.get('mean'), digits)} [{_f(cell.get('low'), digits)}, " \
           f"{_f(cell.get('high'), digits)}]"


def plot_ndcg(result: dict) -> str:
    methods = list(result["methods"])
    ks = result["spec"]["k_values"]
    fig, ax = plt.subplots(figsize=(8, 3.6))
    width = 0.8 / len(ks)
    for j, k in enumerate(ks):
        cells = [result["methods"][m][f"ndcg@{k}"] for m in methods]
        means = [c["mean"] for c in cells]
        err = [[c["mean"] - c["low"] for c in cells], [c["high"] - c["mean"] for c in cells]]
        xs = [i + (j - (len(ks) - 1) / 2) * width for i in range(len(methods))]
        ax.bar(xs, means, width, yerr=err, capsize=3, label=f"NDCG@{k}",
               color=[METHOD_COLOURS.get(m, "#555") for m in methods], alpha=0.55 + 0.4 * j)
    ax.set_xticks(range(len(methods)), [_label(m) for m in methods])
    ax.set_ylabel("NDCG (IC 95 %)")
    ax.set_title("Qualité du classement sur la période de test")
    ax.legend(loc="upper left")
    return _png(fig)


def plot_reliability(result: dict) -> str:
    fig, ax = plt.subplots(figsize=(5, 4.4))
    ax.plot([0, 1], [0, 1], ls="--", color="#999", lw=1)
    for name, summary in result["methods"].items():
        curve = summary.get("reliability")
        if not curve:
            continue
        ax.plot([b["mean_predicted"] for b in curve], [b["observed"] for b in curve], marker="o",
                label=f"{_label(name)} (Brier {summary.get('brier', float('nan')):.4f})",
                color=METHOD_COLOURS.get(name))
    ax.set_xlabel("probabilité prédite d'une sortie positive")
    ax.set_ylabel("fréquence observée")
    ax.set_title("Fiabilité (calibration)")
    ax.legend(fontsize=8)
    return _png(fig)


def plot_groups(result: dict, metric: str, title: str) -> str:
    dims = list(result["groups"])
    fig, axes = plt.subplots(1, len(dims), figsize=(4.2 * len(dims), 3.8), squeeze=False)
    methods = [m for m in result["methods"] if m != "random"]
    for ax, dim in zip(axes[0], dims, strict=True):
        values = list(result["groups"][dim])
        width = 0.8 / len(methods)
        for j, name in enumerate(methods):
            cells = [result["groups"][dim][v][name][metric] for v in values]
            means = [c["mean"] if c["mean"] is not None else math.nan for c in cells]
            err = [[max(0.0, (c["mean"] or 0) - (c["low"] or 0)) for c in cells],
                   [max(0.0, (c["high"] or 0) - (c["mean"] or 0)) for c in cells]]
            xs = [i + (j - (len(methods) - 1) / 2) * width for i in range(len(values))]
            ax.bar(xs, means, width, yerr=err, capsize=2, label=_label(name),
                   color=METHOD_COLOURS.get(name))
        ax.set_xticks(range(len(values)), [GROUP_LABELS.get(v, v) for v in values],
                      rotation=30, ha="right", fontsize=8)
        ax.set_title(DIMENSION_LABELS.get(dim, dim))
    axes[0][0].set_ylabel(f"{METRIC_LABELS.get(metric, metric)} (IC 95 %)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(methods), fontsize=8,
               bbox_to_anchor=(0.5, -0.16))
    fig.suptitle(title)
    return _png(fig)


def plot_trend(rows: list[dict], keys: tuple[str, ...] = TREND_KEYS) -> str:
    fig, ax = plt.subplots(figsize=(8, 3.4))
    xs = list(range(1, len(rows) + 1))
    for key in keys:
        ys = [float(r[key]) if r.get(key) is not None else math.nan for r in rows]
        ax.plot(xs, ys, marker="o", label=key, color=METHOD_COLOURS.get(key.split(".")[0]))
    ax.set_xticks(xs, [str(r["created_at"])[:16].replace("T", " ") for r in rows], rotation=30,
                  ha="right", fontsize=7)
    ax.set_ylabel("NDCG@10")
    ax.set_title(f"Tendance sur {len(rows)} exécution(s) enregistrée(s)")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return _png(fig)


def _table(result: dict, with_ci: list[str], plain: list[str]) -> str:
    head = "".join(f"<th>{c}</th>" for c in with_ci + plain)
    rows = []
    for name, s in result["methods"].items():
        cells = "".join(
            f"<td>{_f((s.get(c) or {}).get('mean'))}<br><small>{_ci_bounds(s.get(c))}</small></td>"
            for c in with_ci)
        cells += "".join(f"<td>{_f(s.get(c))}</td>" for c in plain)
        rows.append(f'<tr><th class="l">{html.escape(_label(name))}</th>{cells}</tr>')
    return f'<table><tr><th class="l">méthode</th>{head}</tr>{"".join(rows)}</table>'


def _ci_bounds(cell: dict | None) -> str:
    return f"[{_f(cell.get('low'))}, {_f(cell.get('high'))}]" if cell else ""


def _methods_table(result: dict) -> str:
    ks = result["spec"]["k_values"]
    k0 = min(ks)
    ranking = [f"ndcg@{k}" for k in ks] + [f"recall@{k}" for k in ks] + ["map", f"success@{k0}"]
    other = [f"frein_coverage@{k0}", f"exposure@{k0}"]
    plain = [f"coverage@{max(ks)}", f"capacity_overflow@{k0}", f"median_travel_top{k0}",
             f"unreachable_top{k0}", "brier"]
    return _table(result, ranking, []) + _table(result, other, plain)


def _label(method: str) -> str:
    return METHOD_LABELS.get(method, method)


def _calibration_table(rows: list[dict]) -> str:
    if not rows:
        return "<p>Pas de table de calibration (ce n'est pas un monde synthétique).</p>"
    body = "".join(
        f'<tr><td class="l"><code>{html.escape(r["key"])}</code><br>{html.escape(r["statistic"])}'
        f'</td><td>{_f(r["target"])}</td><td>{_f(r["generated"])}</td>'
        f'<td>±{_f(r["tolerance"], 2)}</td><td>{r["n"]}</td>'
        f'<td class="{"ok" if r["within"] else "bad"}">{"oui" if r["within"] else "NON"}</td>'
        f'<td class="l">{html.escape(KIND_LABELS.get(r["kind"], r["kind"]))}</td>'
        f'<td class="l">{html.escape(r["source"])}</td></tr>' for r in rows)
    within = sum(1 for r in rows if r["within"])
    return (f"<p>{within}/{len(rows)} statistiques dans la tolérance. « hypothèse » : aucun "
            "chiffre dans les documents, choix du générateur.</p><table><tr>"
            '<th class="l">statistique</th><th>cible</th><th>générée</th><th>tolérance</th>'
            '<th>n</th><th>dans la tolérance</th><th class="l">nature</th>'
            '<th class="l">source</th></tr>'
            f"{body}</table>")


def _judged_section(judged: dict | None) -> str:
    """The judged test collection: a table per method (overall and per département) and the
    worst personas with their top 5, each item with its grade and why a référent strikes it."""
    if not judged:
        return ""
    c = judged.get("collection", {})
    grades = c.get("grades", {})
    deps = ", ".join(f"{html.escape(str(d))}: {n}" for d, n in c.get("by_department", {}).items())
    head = ("<tr><th class='l'>méthode</th><th class='l'>périmètre</th><th>NDCG@5</th>"
            "<th>NDCG@10</th><th>barrées dans le top 5</th><th>dont note 0</th>"
            "<th>dont inéligibles</th><th>personas avec une action barrée</th></tr>")
    rows = []
    for name, f in judged.get("methods", {}).items():
        scopes = [("tout", f), *[(f"département {d}", v)
                                for d, v in (f.get("by_department") or {}).items()]]
        for scope, v in scopes:
            rows.append(
                f"<tr><th class='l'>{html.escape(name)}</th><td class='l'>{html.escape(scope)}</td>"
                f"<td>{_f(v.get('ndcg@5'))}</td><td>{_f(v.get('ndcg@10'))}</td>"
                f"<td>{_f(v.get('struck_top5'))}</td><td>{_f(v.get('struck_grade0'))}</td>"
                f"<td>{_f(v.get('struck_ineligible'))}</td>"
                f"<td>{_f(v.get('personas_struck'))} / {_f(v.get('personas'))}</td></tr>")
    parts = [
        "<h2>Collection jugée (documents réels, aucune donnée synthétique)</h2>",
        (f"<p>{_f(c.get('personas'))} personas écrites à partir des documents sources ({deps}) ; "
         f"{_f(c.get('judgments'))} jugements gradués (notes 0/1/2/3 : "
         f"{'/'.join(_f(grades.get(str(g))) for g in range(4))}), jugés d'après les publics et "
         "les objectifs des documents, jamais d'après un score (data/evaluation/judged/"
         "JUDGING.md). Barrée : une action du top 5 qu'un référent rayerait (note 0, ou exclue "
         "par les règles d'éligibilité du moteur). Modèle appris : "
         f"{_f(judged.get('model_source'))}.</p>"),
        f"<table>{head}{''.join(rows)}</table>",
    ]
    for name, personas in (judged.get("worst") or {}).items():
        parts.append(f"<h3>Personas les moins bien servies — {html.escape(name)}</h3>")
        for p in personas:
            items = "".join(
                f"<tr><td>{t['rank']}</td><td>{t['grade']}</td>"
                f"<td class='l'>{'✗' if t['struck'] else ''}</td>"
                f"<td class='l'><code>{html.escape(t['action_id'])}</code> {html.escape(t['title'])}"
                + "".join(f"<br><small>{html.escape(r)}</small>" for r in t["reasons_fr"])
                + "</td></tr>" for t in p["top5"])
            parts.append(
                f"<p><b>{html.escape(p['persona_id'])}</b> "
                f"({html.escape(str(p.get('commission') or p['department']))}), NDCG@10 "
                f"{_f(p.get('ndcg@10'))} — {html.escape(p['narrative_fr'])}</p>"
                "<table><tr><th>rang</th><th>note</th><th class='l'>barrée</th>"
                f"<th class='l'>action</th></tr>{items}</table>")
    return "\n".join(parts)


KIND_LABELS = {"document": "document", "derived": "dérivée", "assumption": "hypothèse"}


def _ratio_cell(row: dict | None) -> str:
    if not row:
        return "<td>–</td>"
    flag = row["outside_band"]
    mark = " ⚠" if flag else ""
    return (f'<td class="{"bad" if flag else ""}">{_f(row["ratio"], 2)}{mark}<br><small>'
            f'[{_f(row["low"], 2)}, {_f(row["high"], 2)}]</small></td>')


def fairness_table(fairness: dict | None, methods: tuple[str, ...] = FAIRNESS_METHODS) -> str:
    """The ratio of each group's exposure and success to everyone's, per method; rows with a
    ratio outside the band are marked (class ``out``, ⚠ in the cell)."""
    if not fairness or not fairness.get("rows"):
        return "<p>Pas de table d'équité dans cette exécution.</p>"
    low, high = fairness["band"]
    present = {r["method"] for r in fairness["rows"]}
    methods = tuple(m for m in methods if m in present)
    metrics = fairness["metrics"]
    cells: dict[tuple, dict] = {(r["dimension"], r["group"], r["method"], r["metric"]): r
                                for r in fairness["rows"]}
    groups: dict[str, list[tuple[str, int]]] = {}
    for r in fairness["rows"]:
        seen = groups.setdefault(r["dimension"], [])
        if r["group"] not in [g for g, _ in seen]:
            seen.append((r["group"], r["n"]))
    head = "".join(f"<th>{html.escape(_label(m))}<br><small>"
                   f"{html.escape(METRIC_LABELS.get(k, k))}</small></th>"
                   for m in methods for k in metrics)
    parts = [(f"<p>Ratio du groupe à l'ensemble des personnes évaluées (même méthode), avec "
             f"l'intervalle bootstrap à 95 % (personnes rééchantillonnées). Hors de la bande "
             f"[{low:g}, {high:g}] (règle des quatre cinquièmes et son inverse) : ligne "
             f"surlignée et ⚠. Lignes hors bande : <b>{fairness.get('outside_band', 0)}</b> "
             "(toutes méthodes, dans le JSON).</p>")]
    for dim, values in groups.items():
        rows = []
        for group, n in values:
            row_cells = [cells.get((dim, group, m, k)) for m in methods for k in metrics]
            out = any(c and c["outside_band"] for c in row_cells)
            rows.append(f'<tr class="{"out" if out else ""}"><th class="l">'
                        f"{html.escape(GROUP_LABELS.get(group, group))}</th><td>{n}</td>"
                        + "".join(_ratio_cell(c) for c in row_cells) + "</tr>")
        parts.append(f"<h3>{html.escape(DIMENSION_LABELS.get(dim, dim))}</h3><table><tr>"
                     f'<th class="l">groupe</th><th>personnes</th>{head}</tr>'
                     f'{"".join(rows)}</table>')
    return "".join(parts)


def render_report(result: dict, trend_rows: list[dict],
                  regressions: list[str] | None = None) -> str:
    """The whole report as one HTML string (labels in French)."""
    head = result.get("headline", {})
    diff, ratio = head.get("difference") or {}, head.get("ratio_to_oracle") or {}
    a, b = head.get("reference", ["learned", "distance"])
    excludes = diff and (diff.get("low", 0) > 0 or diff.get("high", 0) < 0)
    verdict = "exclut" if excludes else "n'exclut pas"
    model = result.get("model", {})
    spec = result.get("spec", {})
    k0 = min(spec.get("k_values", [5]))
    regress = (f'<p class="bad">Régression : {"; ".join(html.escape(r) for r in regressions)}</p>'
               if regressions else '<p class="ok">Aucune régression par rapport à '
               "l'exécution précédente.</p>" if regressions is not None else "")
    setup = {**spec.get("extra", {}), "k": spec.get("k_values"),
             "rééchantillonnages bootstrap": spec.get("n_bootstrap"),
             "re-classement de diversité des méthodes servies (k)": spec.get("rerank_k"),
             "configuration": result.get("config"), "découpage": result.get("split"),
             "population": result.get("population")}
    setup_rows = "".join(f'<tr><th class="l">{html.escape(str(k))}</th>'
                         f'<td class="l">{html.escape(str(v))}</td></tr>' for k, v in setup.items())
    weights = sorted((model.get("weights") or {}).items(), key=lambda kv: -abs(kv[1]))
    weight_rows = "".join(f'<tr><td class="l"><code>{html.escape(c)}</code></td>'
                          f"<td>{w:+.4f}</td></tr>" for c, w in weights)
    parts = [
        "<!doctype html><html lang='fr'><head><meta charset='utf-8'>",
        f"<title>insertion-match : évaluation {html.escape(str(result.get('run_id', '')))}</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>insertion-match — évaluation hors ligne</h1>",
        (f"<p>Exécution <code>{_f(result.get('run_id'))}</code>, {_f(result.get('created_at'))} ; "
         f"modèle <code>{_f(model.get('name'))} {_f(model.get('version'))}</code> "
         f"({_f(model.get('source'))}).</p>"),
    ]
    if result.get("synthetic"):
        parts.append('<div class="synthetic">DONNÉES SYNTHÉTIQUES (SYNTHETIC DATA) : personnes, '
                     "prescriptions et sorties sont tirées par insertion_match.synthetic ; rien "
                     "ici ne décrit des personnes réelles. La vérité cachée est écrite par le "
                     "projet : ses effets viennent d'une lecture des documents, pas de résultats "
                     "observés.</div>")
    parts += [
        "<h2>Résultat principal</h2>",
        (f"<p>{html.escape(_label(a))} − {html.escape(_label(b))}, "
         f"{html.escape(str(head.get('metric')))} : "
         f"<b>{_ci(diff, 4)}</b> (bootstrap apparié sur les personnes, 95 % ; l'intervalle "
         f"{verdict} zéro). "
         f"Rapport {html.escape(_label(a))} / oracle : <b>{_ci(ratio, 3)}</b>.</p>"), regress,
        "<h2>Dispositif</h2>", f"<table>{setup_rows}</table>",
        "<h2>Métriques par méthode</h2>",
        ("<p>Moyennes et intervalles bootstrap à 95 % sur les personnes. success@k : part des "
         "k actions montrées qui finiraient en sortie positive ; exposure@k : part des k "
         "montrées tournées vers l'emploi (IAE, formation, accompagnement renforcé) ; "
         "frein_coverage : part des freins réels ou bloquants de la personne (tels que "
         "diagnostiqués) traités par les k montrées.</p>"),
        _methods_table(result),
        _img(plot_ndcg(result), "NDCG par méthode"),
        "<h2>Calibration des probabilités</h2>",
        _img(plot_reliability(result), "courbes de fiabilité"),
        "<h2>Équité : ratios par groupe</h2>",
        fairness_table(result.get("fairness")),
        _img(plot_groups(result, f"success@{k0}",
                         f"Taux de succès du top {k0}, par groupe"), "succès par groupe"),
        _img(plot_groups(result, f"exposure@{k0}",
                         f"Exposition aux actions tournées vers l'emploi dans le top {k0}, "
                         "par groupe"), "exposition par groupe"),
        "<h2>Tendance</h2>", _img(plot_trend(trend_rows), "tendance sur les exécutions"),
        "<table><tr><th class='l'>exécution</th><th class='l'>date</th>"
        + "".join(f"<th>{html.escape(k)}</th>" for k in TREND_KEYS) + "</tr>"
        + "".join(f"<tr><td class='l'>{_f(r['run_id'])}</td><td class='l'>{_f(r['created_at'])}"
                  "</td>" + "".join(f"<td>{_f(r.get(k), 4)}</td>" for k in TREND_KEYS) + "</tr>"
                  for r in trend_rows) + "</table>",
        "<h2>Monde synthétique : calibration sur les documents</h2>",
        _calibration_table(result.get("calibration", [])),
        "<h2>Poids appris (logit par unité, du plus fort au plus faible)</h2>",
        f"<p>Constante (terme de base) : {_f(model.get('intercept'), 4)}</p>",
        f"<table><tr><th class='l'>colonne</th><th>poids</th></tr>{weight_rows}</table>",
        _judged_section(result.get("judged")),
        "</body></html>",
    ]
    return "\n".join(parts)
