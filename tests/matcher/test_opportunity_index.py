"""The indexed offers (a columnar table, a spatial grid, the target jobs' family scored first)
answer exactly as the brute evaluation of every offer of the départements within reach.

Offers: the demo generator over five départements of Normandy and the Loire; people: homes
drawn across those and the neighbouring départements (so that many are at the edge of the
offers' reach), with every mobility, maximum time, licence, target jobs (recognised, not
recognised, none), skills, children and history."""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from insertion_match.domain import BeneficiaryProfile, Opportunity
from insertion_match.features.demo_offers import iter_offers
from insertion_match.features.offers_import import parse_france_travail
from insertion_match.features.opportunity_index import OfferTable, PointGrid
from insertion_match.features.people import (
    PersonRecord,
    build_people,
    concat_people,
    person_arrays,
    resolve_targets,
)
from insertion_match.features.profile import person_context
from insertion_match.geo import haversine_km
from insertion_match.matcher import candidates, opportunity_recommend
from insertion_match.matcher.candidates import Scope, rank_candidates
from insertion_match.matcher.engine import MatchingEngine
from insertion_match.matcher.opportunity_recommend import recommend_opportunities, shared_table

DATA = Path(__file__).resolve().parents[2] / "data"
JOBS = {"61": 500, "72": 400, "14": 350, "53": 250, "50": 250}
OTHER = {d: {"volunteering": 12, "immersion": 15, "internship": 6} for d in JOBS}
HOMES = ("61", "72", "14", "53", "50", "27", "28", "35", "37", "49")
TITLES = ("agent d'entretien", "aide à domicile", "cariste", "K2204", "N1103", "vendeuse",
          "préparateur de commandes", "zzz métier inconnu", "serveur", "maçon")
SKILLS = ("nettoyage des locaux", "préparer des commandes", "accueil des clients",
          "entretien des espaces verts", "Utiliser des produits d'entretien")
TODAY = date(2026, 11, 10)


@pytest.fixture(scope="module")
def generated(catalogue, gazetteer, territories, rome):
    records = list(iter_offers(gazetteer, rome, seed=7, jobs_per_department=JOBS,
                               other_per_department=OTHER))
    rng = np.random.default_rng(3)
    for r in records[::7]:  # some expire before TODAY, some after
        r["dateExpiration"] = f"2026-11-{int(rng.integers(1, 28)):02d}T00:00:00.000Z"
    batch = parse_france_travail(records, gazetteer, rome, "gen")
    assert not batch.rejected
    engine = MatchingEngine.build(catalogue, gazetteer, territories, rome=rome,
                                  opportunities=batch.opportunities)
    return engine, batch.opportunities


def _profiles(n: int, offer_ids: list[str], seed: int = 11,
              near: tuple[str, ...] = ()) -> list[BeneficiaryProfile]:
    """``near``: INSEE codes where four homes out of five are drawn (a dense area)."""
    rng = np.random.default_rng(seed)
    communes = pd.read_csv(DATA / "geo/communes_france.csv", dtype=str)
    communes = communes[communes.department.isin(HOMES) & communes.lat.notna()]
    out = []
    for k in range(n):
        insee = communes.insee_code.iloc[int(rng.integers(len(communes)))]
        if near and rng.random() < 0.8:
            insee = near[int(rng.integers(len(near)))]
        mobility = {"max_travel_minutes": int(rng.choice([10, 20, 30, 45, 60, 90]))}
        for key, values in (("driving_licence", ["none", "code", "b", None]),
                            ("vehicle", ["none", "car", "bike", "two_wheeler", None])):
            v = rng.choice(values)
            if v is not None:
                mobility[key] = str(v)
        if rng.random() < 0.7:
            mobility["public_transport"] = bool(rng.random() < 0.6)
        profile: dict = {"id": f"gen-{k}", "home": {"insee": insee}, "mobility": mobility,
                         "target_jobs": [str(t) for t in rng.choice(TITLES, rng.integers(0, 3),
                                                                    False)],
                         "skills": [str(s) for s in rng.choice(SKILLS, rng.integers(0, 3),
                                                               False)],
                         "freins": {"garde_enfants": int(rng.integers(0, 4)),
                                    "recherche_emploi": int(rng.integers(0, 4))}}
        if rng.random() < 0.6:
            profile["family"] = {"children_under_3": int(rng.random() < 0.3),
                                 "children_3_to_11": int(rng.integers(0, 2))}
        if rng.random() < 0.6:
            profile["availability"] = {"atypical_hours": bool(rng.random() < 0.5),
                                       "hours_per_week": int(rng.choice([15, 24, 35]))}
        if rng.random() < 0.5:
            profile["training_level"] = str(rng.choice(["infra3", "3", "4", "5"]))
            profile["age"] = int(rng.integers(18, 60))
        if rng.random() < 0.3:
            profile["history"] = [{"item_id": str(i), "status": str(s)} for i, s in zip(
                rng.choice(offer_ids, 3, False),
                rng.choice(["done", "refused", "abandoned", "ongoing"], 3), strict=True)]
        out.append(BeneficiaryProfile.model_validate(profile))
    return out


KINDS = (["job"], ["job", "volunteering", "immersion", "internship"], ["immersion"])


def test_indexed_answers_equal_the_brute_evaluation(generated):
    engine, offers = generated
    ids = [o.id for o in offers]
    assert shared_table(engine.opportunity_indexes) is engine.opportunity_table  # indexed path
    compared = shown = 0
    for k, profile in enumerate(_profiles(70, ids)):
        ctx = person_context(profile, engine.gazetteer, engine.territories,
                             engine.home_scope())
        person = person_arrays(ctx, engine.rome)
        kinds = KINDS[k % len(KINDS)]
        for limit in (10, 3):
            args = (person, ctx.history, engine.opportunity_indexes, engine.opportunity_scorer,
                    kinds, limit)
            fast = recommend_opportunities(*args, today=TODAY)
            brute = recommend_opportunities(*args, today=TODAY, brute=True)
            assert fast == brute, profile.id
            compared += 1
            if k % 2:  # a tiny first round: more rounds of pruning
                shipped, opportunity_recommend.FIRST_ROUND = opportunity_recommend.FIRST_ROUND, 1
                try:
                    assert recommend_opportunities(*args, today=TODAY) == brute, profile.id
                finally:
                    opportunity_recommend.FIRST_ROUND = shipped
            shown += len(fast.items)
    assert compared == 140 and shown > 300  # people near offers and people out of reach


def test_the_snapshot_and_an_added_batch_serve_the_same_table(generated, rome, tmp_path):
    engine, offers = generated
    table = engine.opportunity_table
    table.save(tmp_path / "offers.npz", "fp-1")
    assert OfferTable.load(tmp_path / "offers.npz", "fp-2") is None  # the offers changed
    loaded = OfferTable.load(tmp_path / "offers.npz", "fp-1")
    assert loaded is not None and list(loaded.ids) == list(table.ids)
    assert loaded.docs[17] == table.docs[17]
    added = OfferTable.build(offers[:1000], rome).with_added(offers[1000:], rome)
    assert list(added.ids) == list(table.ids)
    assert [added.docs[i] for i in (0, 999, len(added) - 1)] == [
        table.docs[i] for i in (0, 999, len(table) - 1)]
    assert np.array_equal(added.arrays.tokens, table.arrays.tokens)
    profile = _profiles(1, [o.id for o in offers], seed=5)[0]
    with_loaded = engine.with_opportunities(loaded)
    assert with_loaded.recommend(profile, kinds=["job"], today=TODAY) == engine.recommend(
        profile, kinds=["job"], today=TODAY)
    index, pos = engine.opportunity(offers[123].id)
    assert index.opportunities[pos] == offers[123]


def test_the_grid_returns_every_point_within_the_radius():
    rng = np.random.default_rng(0)
    lat, lon = rng.uniform(42, 51, 5000), rng.uniform(-5, 8, 5000)
    grid = PointGrid(lat, lon)
    for _ in range(50):
        y, x, r = rng.uniform(42, 51), rng.uniform(-5, 8), rng.uniform(1, 120)
        found = grid.query(y, x, r)
        inside = np.flatnonzero(haversine_km(y, x, lat, lon) <= r)
        assert set(inside.tolist()) <= set(found.tolist())
        assert np.all(np.diff(found) > 0)  # sorted, no duplicate


def test_candidates_read_through_the_grid_equal_the_brute_evaluation(generated):
    engine, offers = generated
    records = []
    for profile in _profiles(400, [o.id for o in offers], seed=21):
        home = engine.locate(profile)
        records.append(PersonRecord(profile, home, engine.territories.commission_of(home.insee),
                                    resolve_targets(profile, engine.rome)))
    # built in two chunks and joined, as for a large caseload
    people = concat_people([build_people(records[:150], engine.rome),
                            build_people(records[150:], engine.rome)]).with_grid()
    whole = build_people(records, engine.rome)
    assert list(people.ids) == list(whole.ids)
    assert np.array_equal(people.token_owner, whole.token_owner)
    assert people.history.keys() == whole.history.keys()
    rng = np.random.default_rng(4)
    scopes = (Scope(), Scope(departments=frozenset({"61", "72"})),
              Scope(territories=(("14", None), ("50", None))))
    listed = 0
    for k, at in enumerate(rng.choice(len(offers), 60, replace=False)):
        index, pos = engine.opportunity(offers[int(at)].id)
        scope = scopes[k % len(scopes)]
        args = (index, pos, people, engine.opportunity_scorer, scope, 15)
        fast = rank_candidates(*args)
        assert fast == rank_candidates(*args, brute=True)
        assert fast == rank_candidates(index, pos, whole, engine.opportunity_scorer, scope, 15)
        listed += len(fast.items)
    assert listed > 100


def _stored_300(generated, catalogue, gazetteer, territories, tmp_path):
    """300 generated offers stored in a new SQLite database: (offers, settings, sessions, the
    engine without offers)."""
    from insertion_match.service import db
    from insertion_match.service.settings import Settings

    _, offers = generated
    settings = Settings(environment="test", var_dir=tmp_path, data_dir=DATA,
                        database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    sessions = db.init_db(db.make_engine(settings.sqlalchemy_url))
    db.upsert_opportunities(sessions, offers[:300], "gen", origin="test")
    return offers, settings, sessions, MatchingEngine.build(catalogue, gazetteer, territories)


def test_the_service_starts_from_the_snapshot_until_the_offers_change(
        generated, catalogue, gazetteer, territories, tmp_path):
    from insertion_match.service import db
    from insertion_match.service.offers import SNAPSHOT_FILE, with_stored_offers

    offers, settings, sessions, base = _stored_300(generated, catalogue, gazetteer,
                                                   territories, tmp_path)
    first = with_stored_offers(settings, sessions, base)
    snapshot = tmp_path / SNAPSHOT_FILE
    assert snapshot.exists() and len(first.opportunity_table) == 300
    written = snapshot.stat().st_mtime_ns
    second = with_stored_offers(settings, sessions, base)  # unchanged table: loaded
    assert snapshot.stat().st_mtime_ns == written
    assert list(second.opportunity_table.ids) == list(first.opportunity_table.ids)
    assert second.opportunities[42] == first.opportunities[42]
    db.upsert_opportunities(sessions, offers[300:310], "gen", origin="test")
    third = with_stored_offers(settings, sessions, base)  # changed: brought up to date
    assert len(third.opportunity_table) == 310 and snapshot.stat().st_mtime_ns != written
    assert third.opportunity(offers[305].id) is not None


def test_a_stale_snapshot_is_brought_up_to_date_with_the_changed_offers_only(
        generated, catalogue, gazetteer, territories, tmp_path, caplog):
    """The restart after an import reads the offers changed since the snapshot, not all of
    them, and serves the same table as a full rebuild; an offer deleted since forces the
    rebuild (the snapshot alone cannot say which)."""
    import logging

    from sqlalchemy import delete

    from insertion_match.service import db
    from insertion_match.service.db.opportunities import iter_opportunity_json
    from insertion_match.service.offers import with_stored_offers

    offers, settings, sessions, base = _stored_300(generated, catalogue, gazetteer,
                                                   territories, tmp_path)
    with_stored_offers(settings, sessions, base)  # writes the snapshot
    changed = [o.model_copy(update={"title": f"{o.title} (modifiée)"}) for o in offers[:5]]
    db.upsert_opportunities(sessions, [*changed, *offers[300:320]], "gen", origin="test")

    def start() -> tuple[MatchingEngine, str]:
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="insertion_match.service"):
            engine = with_stored_offers(settings, sessions, base)
        kinds = [r.kind for r in caplog.records if r.msg == "offers ready"]
        return engine, kinds[-1]

    updated, how = start()
    assert how == "snapshot+changes"
    table = updated.opportunity_table
    full = OfferTable.build_from_json(iter_opportunity_json(sessions), updated.rome)
    assert sorted(table.ids.tolist()) == sorted(full.ids.tolist()) and len(table) == 320
    at, ref = table.positions_of(full.ids.tolist()), np.arange(len(full))
    for name in ("lat", "lon", "kind_code", "rome_pos", "expires", "hours", "durable"):
        np.testing.assert_array_equal(getattr(table.arrays, name)[at],
                                      getattr(full.arrays, name)[ref], err_msg=name)
    assert updated.opportunity(offers[0].id) is not None
    index, position = updated.opportunity(offers[0].id)
    assert index.opportunities[position].title.endswith("(modifiée)")
    assert start()[1] == "snapshot"  # written again: the next start loads it as it is

    with sessions.begin() as session:
        session.execute(delete(db.OpportunityRow).where(db.OpportunityRow.id == offers[7].id))
    rebuilt, how = start()
    assert how == "database" and len(rebuilt.opportunity_table) == 319
    assert rebuilt.opportunity(offers[7].id) is None


def test_a_replaced_offer_is_not_served_from_the_documents_read_before(generated):
    """The validated documents of the shown offers are kept (``DocStore.document``): an
    import replacing an offer serves its new document, the engine before it the old one."""
    engine, offers = generated
    person, before = next((p, r) for p in _profiles(40, [o.id for o in offers], seed=5)
                          if (r := engine.recommend(p, kinds=["job"], today=TODAY)).items)
    shown = before.items[0]
    table = engine.opportunity_table
    pos = int(table.positions_of([shown.id])[0])
    old = table.docs[pos]
    assert table.docs[pos] is old  # read once, then kept
    changed = _with(old, title="Agent de propreté (offre remplacée)", employer="Autre employeur",
                    url="https://example.org/offre-remplacee")
    replaced = engine.with_opportunities_added([changed])
    item = next(i for i in replaced.recommend(person, kinds=["job"], today=TODAY).items
                if i.id == shown.id)
    assert (item.title, item.provider, item.opportunity["url"]) == (
        changed.title, "Autre employeur", "https://example.org/offre-remplacee")
    # the engine before the import still serves the old document
    assert engine.recommend(person, kinds=["job"], today=TODAY) == before
    assert table.docs[pos] == old


# ------------------------------------------------- pruning at its edges (same answers)


def _with(o: Opportunity, **update) -> Opportunity:
    """``o`` with some fields changed, validated."""
    return Opportunity.model_validate({**o.model_dump(), **update})


def _compare(engine, profiles, kinds_cycle=KINDS, limits=(10, 3)) -> int:
    """Indexed against brute for every profile and limit, with the first round of scoring
    as shipped and with a tiny one (more rounds: the pruning is exercised even on a few
    hundred offers); the number of items shown."""
    shown = 0
    shipped = opportunity_recommend.FIRST_ROUND
    for k, profile in enumerate(profiles):
        ctx = person_context(profile, engine.gazetteer, engine.territories,
                             engine.home_scope())
        person = person_arrays(ctx, engine.rome)
        for limit in limits:
            args = (person, ctx.history, engine.opportunity_indexes, engine.opportunity_scorer,
                    kinds_cycle[k % len(kinds_cycle)], limit)
            brute = recommend_opportunities(*args, today=TODAY, brute=True)
            for first_round in (shipped, 1):
                opportunity_recommend.FIRST_ROUND = first_round
                try:
                    fast = recommend_opportunities(*args, today=TODAY)
                finally:
                    opportunity_recommend.FIRST_ROUND = shipped
                assert fast == brute, (profile.id, first_round)
            shown += len(fast.items)
    return shown


def test_iae_hours_and_licence_terms_are_within_the_score_bound(
        generated, catalogue, gazetteer, territories, rome):
    """Terms the bound must count: iae (+), hours, licence souhaité, atypical hours with young
    children (−): offers carrying them, shown or not, the same answers."""
    _, offers = generated
    changed = []
    for k, o in enumerate(offers):
        update: dict = {}
        if o.kind == "job" and k % 3 == 0:
            update.update(iae=True, siae_kind="ACI")
        if k % 4 == 1:
            update["hours_per_week"] = float(10 + 5 * (k % 6))
        if k % 5 == 2:
            update["licences"] = [{"category": "B", "required": False}]
        if k % 7 == 3:
            update["atypical_hours"] = ["weekend"]
        changed.append(_with(o, **update))
    engine = MatchingEngine.build(catalogue, gazetteer, territories, rome=rome,
                                  opportunities=changed)
    profiles = _profiles(40, [o.id for o in changed], seed=31)
    assert _compare(engine, profiles) > 150
    shown = {item.id for p in profiles for item in engine.recommend(
        p, kinds=["job"], today=TODAY).items}
    assert shown & {o.id for o in changed if o.iae}  # IAE offers are among those shown


def test_tied_scores_keep_the_table_order(generated, catalogue, gazetteer, territories, rome):
    """Many offers with the same score: clones within 1.5 km of the home (trips shorter than
    ``MIN_TRIP_KM`` take the same minutes) in the four grid cells around a corner, ids out of
    generation order, more than the pruning's first round. The brute choice keeps the first
    in table order, and so does the indexed one (the grid reads them cell by cell)."""
    _, offers = generated
    communes = pd.read_csv(DATA / "geo/communes_france.csv", dtype=str)
    town = communes[communes.insee_code == "61331"].iloc[0]  # 0.4 km from a grid corner
    corner = (round(float(town.lat), 1), round(float(town.lon), 1))
    base = next(o for o in offers if o.kind == "job" and o.location.department == "61")
    volunteering = next(o for o in offers if o.kind == "volunteering")
    other = next(o.rome_code for o in offers if o.kind == "job" and o.rome_code
                 and o.rome_code[:3] != base.rome_code[:3])
    clones = []
    for k in range(160):
        where = {**base.location.model_dump(), "insee": "61331",
                 "lat": corner[0] + (0.002 if k % 2 else -0.002),
                 "lon": corner[1] + (0.003 if k % 4 < 2 else -0.003)}
        for template, kind in ((base, "job"), (volunteering, "volunteering")):
            ext = f"tie{(k * 37) % 160:03d}{kind[0]}"
            clones.append(_with(template, id=f"gen:{ext}", external_id=ext, location=where,
                                rome_code=template.rome_code if k % 3 else (
                                    other if kind == "job" else None)))
    engine = MatchingEngine.build(catalogue, gazetteer, territories, rome=rome,
                                  opportunities=offers[:200] + clones)
    profiles = []
    for k, jobs in enumerate((["agent d'entretien"], [], ["K2204", "vendeuse"])):
        for minutes in (20, 45):
            profiles.append(BeneficiaryProfile.model_validate({
                "id": f"tie-{k}-{minutes}", "home": {"insee": "61331"}, "target_jobs": jobs,
                "skills": list(SKILLS[: k + 1]),
                "mobility": {"max_travel_minutes": minutes, "public_transport": True}}))
    assert _compare(engine, profiles, (["job", "volunteering"],), (10, 3, 1)) > 30


def test_offers_on_either_side_of_each_mode_reach(catalogue, gazetteer, territories, rome,
                                                  generated):
    """Offers every 150 m from a home outwards along several bearings, so that grid cells
    straddle each mode's reach (walk, bike, public transport, car, the car "to check" of an
    unknown licence) and the reach radius: the same answers for every mobility."""
    _, offers = generated
    templates = [o for o in offers if o.location.department == "61"][:40]
    communes = pd.read_csv(DATA / "geo/communes_france.csv", dtype=str)
    town = communes[communes.insee_code == "61001"].iloc[0]
    lat0, lon0 = float(town.lat), float(town.lon)
    placed = []
    for k in range(700):
        d, bearing = 0.15 * k, np.radians(37.0 * k)
        lat = lat0 + d / 111.195 * np.cos(bearing)
        lon = lon0 + d / (111.195 * np.cos(np.radians(lat0))) * np.sin(bearing)
        o = templates[k % len(templates)]
        ext = f"ring{k:04d}"
        placed.append(_with(o, id=f"gen:{ext}", external_id=ext,
                            location={**o.location.model_dump(), "lat": lat, "lon": lon}))
    engine = MatchingEngine.build(catalogue, gazetteer, territories, rome=rome,
                                  opportunities=placed)
    profiles = []
    mobilities = ({"driving_licence": "none", "vehicle": "none", "public_transport": False},
                  {"driving_licence": "none", "vehicle": "bike", "public_transport": False},
                  {"driving_licence": "code", "vehicle": "none", "public_transport": True},
                  {"driving_licence": "b", "vehicle": "car"},
                  {"vehicle": "two_wheeler"}, {})
    for k, mobility in enumerate(mobilities):
        for minutes in (10, 25, 45, 90):
            profiles.append(BeneficiaryProfile.model_validate({
                "id": f"ring-{k}-{minutes}", "home": {"insee": "61001"},
                "mobility": {**mobility, "max_travel_minutes": minutes},
                "target_jobs": ["agent d'entretien"] if k % 2 else [],
                "freins": {"garde_enfants": 3} if k % 3 == 0 else {}}))
    assert _compare(engine, profiles, (["job", "volunteering", "immersion", "internship"],),
                    (10,)) > 100


def test_public_transport_by_timetables_gives_the_same_answers(generated, gazetteer, tmp_path):
    """With a GTFS network installed (the test feed: Argentan – Surdon – Alençon), public
    transport times come from the timetables, not from the distance: the indexed path times
    every mode that way too, the same answers."""
    from insertion_match.geo.gtfs_import import read_network
    from insertion_match.geo.transit import active_networks, install_networks
    from tests.geo.gtfs_feed import write_feed

    engine, _ = generated
    network = read_network(write_feed(tmp_path / "feed.zip", gazetteer), "test").network
    profiles = []
    for k, insee in enumerate(("61006", "61001", "61101", "61474")):  # Argentan, Alençon...
        for minutes in (30, 60):
            profiles.append(BeneficiaryProfile.model_validate({
                "id": f"pt-{k}-{minutes}", "home": {"insee": insee},
                "mobility": {"driving_licence": "none", "vehicle": "none",
                             "public_transport": True, "max_travel_minutes": minutes},
                "target_jobs": ["agent d'entretien"] if k % 2 else []}))
    def counts() -> list:
        return [engine.recommend(p, kinds=["job"], today=TODAY).counts for p in profiles]

    without = counts()
    before = active_networks()
    install_networks([network])
    try:
        shown = _compare(engine, profiles, (["job", "immersion"],), (10,))
        with_network = counts()
    finally:
        install_networks(before)
    assert shown > 20 and with_network != without  # the timetables opened some offers


def _records(engine, profiles):
    out = []
    for profile in profiles:
        home = engine.locate(profile)
        out.append(PersonRecord(profile, home, engine.territories.commission_of(home.insee),
                                resolve_targets(profile, engine.rome)))
    return out


def test_candidates_pruned_by_the_score_bound_equal_the_brute_evaluation(generated, monkeypatch):
    """Few offers, many people within their reach, twins (the same profile under another id:
    equal scores, ranked by position), history on those very offers (refused, abandoned:
    lower scores; done, ongoing: walls), every limit from 1: only the people whose bound
    reaches the limit-th score are scored, and the answer is the brute one."""
    engine, offers = generated
    rng = np.random.default_rng(8)
    tested = [offers[int(i)] for i in rng.choice(len(offers), 14, replace=False)]
    profiles = []
    homes = tuple(o.location.insee for o in tested)
    for k, p in enumerate(_profiles(1500, [o.id for o in tested], seed=31, near=homes)):
        profiles.append(p)
        if k % 3 == 0:
            profiles.append(p.model_copy(update={"id": f"{p.id}-twin"}))
    people = build_people(_records(engine, profiles), engine.rome).with_grid()
    left_out: list[int] = []  # how many eligible people were not scored, per answer
    may_enter = candidates._may_enter

    def spy(*args):
        out = may_enter(*args)
        left_out.append(args[4].shape[0] - out.shape[0])
        return out

    monkeypatch.setattr(candidates, "_may_enter", spy)
    commissions = sorted({c for c in people.commission.tolist() if c})
    scopes = (Scope(), Scope(departments=frozenset({"61", "14", "27"})),
              Scope(commissions=frozenset(commissions[:2])),
              Scope(territories=(("72", None), ("61", commissions[0]))), Scope(territories=()))
    ties = 0
    for k, offer in enumerate(tested):
        index, pos = engine.opportunity(offer.id)
        for limit in (1, 2, 4, 7, 40, 2000):
            scope = scopes[(k + limit) % len(scopes)]
            args = (index, pos, people, engine.opportunity_scorer, scope, limit)
            fast = rank_candidates(*args)
            assert fast == rank_candidates(*args, brute=True), (offer.id, limit, scope)
            scores = [item.score for item in fast.items]
            ties += sum(a == b for a, b in itertools.pairwise(scores))
    assert sum(n > 0 for n in left_out) > 12 and ties > 5


def test_people_grid_rows_cover_every_home_within_the_radius(generated):
    engine, _offers = generated
    people = build_people(_records(engine, _profiles(600, ["o1", "o2", "o3"], seed=5)), engine.rome).with_grid()
    grid = people.grid
    assert grid is not None
    assert np.array_equal(grid.order[grid.rank], np.arange(len(people)))
    rng = np.random.default_rng(2)
    for _ in range(40):
        y, x, r = rng.uniform(47.5, 49.5), rng.uniform(-1.5, 1.5), rng.uniform(1, 90)
        rows = grid.rows_near(y, x, r)
        assert np.all(np.diff(rows) > 0)
        inside = np.flatnonzero(haversine_km(y, x, people.lat, people.lon) <= r)
        assert set(grid.rank[inside].tolist()) <= set(rows.tolist())
        assert np.array_equal(grid.cells.lat[rows], people.lat[grid.order[rows]])


def _same_people(a, b) -> None:
    from dataclasses import fields as dc_fields

    for f in dc_fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if f.name == "history":
            assert x.keys() == y.keys()
            for k in x:
                assert np.array_equal(x[k][0], y[k][0]) and np.array_equal(x[k][1], y[k][1])
        elif f.name == "grid":
            assert (x is None) == (y is None)
            if x is not None:
                for g in ("order", "rank", "keys", "ptr", "reach_class", "group"):
                    assert np.array_equal(getattr(x, g), getattr(y, g)), g
        elif isinstance(x, np.ndarray):
            assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), f.name
        else:
            assert tuple(x) == tuple(y), f.name


def test_people_patched_in_order_equal_a_full_rebuild(generated):
    """Profiles created, updated (moved home, other targets and skills, history) and deleted:
    the patched index holds the same arrays and gives the same candidates as building
    everyone again; the changed person is found where they now live, not where they lived."""
    from insertion_match.features.people import patch_in_order

    engine, offers = generated
    rng = np.random.default_rng(12)
    tested = [offers[int(i)] for i in rng.choice(len(offers), 6, replace=False)]
    homes = tuple(o.location.insee for o in tested)
    ids = [o.id for o in tested]
    before = {p.id: p for p in _profiles(300, ids, seed=41, near=homes)}
    keys = sorted(before)
    people = build_people(_records(engine, [before[k] for k in keys]), engine.rome).with_grid()
    # the new state: 40 deleted, 40 updated (another person's profile under the same id), 30 new
    after = dict(before)
    order = list(before)
    for k in order[:40]:
        del after[k]
    fresh = _profiles(70, ids, seed=43, near=homes[:2])
    for k, p in zip(order[40:80], fresh[:40], strict=True):
        after[k] = p.model_copy(update={"id": k})
    for p in fresh[40:]:
        after[f"new-{p.id}"] = p.model_copy(update={"id": f"new-{p.id}"})
    changed = set(order[:80]) | {k for k in after if k.startswith("new-")}
    add = {k: r for k, r in zip(
        sorted(changed & set(after)),
        _records(engine, [after[k] for k in sorted(changed & set(after))]), strict=True)}
    drop = [k for k in changed if k in before]
    patched, new_keys = patch_in_order(people, keys, drop, add, engine.rome)
    assert new_keys == sorted(after)
    whole = build_people(_records(engine, [after[k] for k in new_keys]), engine.rome).with_grid()
    _same_people(patched, whole)
    moved = order[40]  # updated: now lives near the first tested offers
    found = 0
    for offer in tested:
        index, pos = engine.opportunity(offer.id)
        for limit in (3, 50):
            args = (index, pos, engine.opportunity_scorer, Scope(), limit)
            fast = rank_candidates(index, pos, patched, *args[2:])
            assert fast == rank_candidates(index, pos, whole, *args[2:])
            assert fast == rank_candidates(index, pos, whole, *args[2:], brute=True)
            listed = {i.beneficiary_id for i in fast.items}
            assert not listed & set(order[:40])  # deleted
            found += moved in listed
    # a patch with nothing to drop or add changes nothing; an unknown key is refused
    same, _ = patch_in_order(patched, new_keys, [], {}, engine.rome)
    _same_people(same, patched)
    with pytest.raises(KeyError):
        patch_in_order(patched, new_keys, ["nobody"], {}, engine.rome)
    assert found > 0


def test_a_table_built_by_worker_processes_is_the_same(generated, rome):
    """The rebuild of a large table validates its chunks in worker processes: same rows,
    columns and documents as one process."""
    from dataclasses import fields

    from insertion_match.features.opportunity_index import OfferArrays, document_bytes

    _, offers = generated
    docs = [document_bytes(o) for o in offers[:700]]
    one = OfferTable.build_from_json(docs, rome, chunk=100)
    two = OfferTable.build_from_json(iter(docs), rome, chunk=100, workers=2)
    assert len(two) == 700 and two.ids.tolist() == one.ids.tolist()
    assert two.department.tolist() == one.department.tolist()
    for f in fields(OfferArrays):
        np.testing.assert_array_equal(getattr(two.arrays, f.name), getattr(one.arrays, f.name),
                                      err_msg=f.name)
    assert [two.docs.raw(i) for i in range(700)] == [one.docs.raw(i) for i in range(700)]
