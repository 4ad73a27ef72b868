"""Through the real app: a feed imported with the CLI is loaded at start-up, answers say
``travel.source``, and a job the crow-fly estimate put out of reach becomes reachable for the
right reason (the train's timetable), while a job the feed does not serve stays a wall."""

from __future__ import annotations

import math

import pytest
from fastapi.testclient import TestClient

from insertion_match.geo.transit import active_networks, install_networks
from tests.conftest import add_key, fresh_database, make_settings
from tests.features.offer_records import offer
from tests.geo.gtfs_feed import write_feed

PERSON = {
    "id": "gtfs-1",
    "home": {"insee": "61006"},  # Argentan, near the station
    "age": 41,
    "mobility": {"driving_licence": "none", "vehicle": "none", "public_transport": True,
                 "max_travel_minutes": 75},
    "freins": {"mobilite": 2, "recherche_emploi": 2, "sante": 2},
    "target_jobs": ["K2204"],
    "availability": {"hours_per_week": 35, "atypical_hours": False},
}


def _job(external_id: str, insee: str, label: str, lat: float, lon: float, postcode: str):
    return offer(id=external_id, permis=None, contexteTravail=None,
                 dureeTravailLibelle="35H Horaires normaux",
                 lieuTravail={"libelle": label, "latitude": lat, "longitude": lon,
                              "codePostal": postcode, "commune": insee})


@pytest.fixture
def restore_networks():
    before = active_networks()
    yield
    install_networks(before)


def _recommend(client: TestClient, kinds: list[str]) -> dict:
    res = client.post("/v1/recommendations", json={
        "beneficiary": PERSON, "kinds": kinds, "limit": 20, "include_excluded": True})
    assert res.status_code == 200, res.text
    return res.json()


def test_feed_lifts_the_travel_wall_through_the_app(tmp_path, gazetteer, restore_networks,
                                                   monkeypatch, capsys):
    from insertion_match.service.app import create_app
    from insertion_match.service.cli import main

    alencon, flers = gazetteer.resolve(insee="61001"), gazetteer.resolve(insee="61169")
    jobs = [_job("GTFS-ALE", "61001", "61 - ALENCON", alencon.lat, alencon.lon, "61000"),
            _job("GTFS-FLE", "61169", "61 - FLERS", flers.lat, flers.lon, "61100")]
    with fresh_database(tmp_path) as url:
        settings = make_settings(tmp_path, url, seed_demo_offers_on_start=False)
        # before: no feed, the crow-fly estimate (about 130 min to Alençon)
        with TestClient(create_app(settings)) as client:
            client.headers["X-API-Key"] = add_key(client.app, "admin")
            res = client.post("/v1/opportunities/import", params={"source": "gtfstest"},
                              json=jobs)
            assert res.status_code == 200, res.text
            before = _recommend(client, ["job", "action"])
        # the operator imports the network, then the service restarts
        monkeypatch.setenv("IM_ENVIRONMENT", "test")
        monkeypatch.setenv("IM_VAR_DIR", str(tmp_path))
        feed = write_feed(tmp_path / "ter-orne.zip", gazetteer)
        assert main(["transit", "import", str(feed), "--name", "ter-orne"]) == 0
        capsys.readouterr()
        with TestClient(create_app(settings)) as client:
            client.headers["X-API-Key"] = add_key(client.app, "admin")
            assert [n.name for n in active_networks()] == ["ter-orne"]
            after = _recommend(client, ["job", "action"])
            # the reverse question (people for an offer) reads the same times
            stored = {k: v for k, v in PERSON.items() if k != "id"}
            assert client.put("/v1/beneficiaries/gtfs-1", json=stored).status_code == 201
            res = client.get("/v1/opportunities/gtfstest:GTFS-ALE/candidates",
                             params={"include_excluded": True})
            assert res.status_code == 200, res.text
            candidates = res.json()

    def job(data: dict, ext: str) -> tuple[str, dict]:
        for item in data["items"]:
            if item["id"] == f"gtfstest:{ext}":
                return "item", item
        for item in data["excluded"]:
            if item["id"] == f"gtfstest:{ext}":
                return "excluded", item
        raise AssertionError(f"{ext} neither listed nor excluded")

    # Alençon: a wall by the estimate ...
    where, ale = job(before, "GTFS-ALE")
    assert where == "excluded"
    wall = next(r for r in ale["reasons"] if r["code"] == "eligibility.travel")
    minutes_before = int(wall["label"].split()[1])
    assert minutes_before > 120 and "en transports en commun" in wall["label"]
    # ... lifted by the timetable: listed, by public transport, timed by the feed
    where, ale = job(after, "GTFS-ALE")
    assert where == "item", ale
    assert ale["travel"]["mode"] == "public_transport"
    assert ale["travel"]["source"] == "gtfs:ter-orne"
    assert ale["travel"]["minutes"] < PERSON["mobility"]["max_travel_minutes"]
    reach = next(r for r in ale["reasons"] if r["code"] == "reach")
    assert reach["label"] == (f"À {round(ale['travel']['minutes'])} min en transports en "
                              "commun, d'après les horaires du réseau ter-orne")
    assert math.isclose(sum(r["contribution"] for r in ale["reasons"]), ale["score"],
                        abs_tol=1e-6)
    person = next(i for i in candidates["items"] if i["beneficiary_id"] == "gtfs-1")
    assert person["travel"] == ale["travel"]
    # Flers: no stop there, the estimate stands and the wall too
    for data in (before, after):
        where, fle = job(data, "GTFS-FLE")
        assert where == "excluded"
        assert any(r["code"] == "eligibility.travel" for r in fle["reasons"])
    # actions: every timed trip says its source; Alençon sites are timed by the feed now
    for data, allowed in ((before, {"estimate"}), (after, {"estimate", "gtfs:ter-orne"})):
        for item in data["items"]:
            travel = item["travel"]
            if travel["minutes"] is None or travel["mode"] in ("itinerant", "dossier"):
                assert travel.get("source") is None
            else:
                assert travel["source"] in allowed


def test_an_action_held_in_a_served_commune_is_timed_by_the_feed(gazetteer, territories,
                                                                 tmp_path, restore_networks):
    """The action path (features/action_features → matcher/explain) reads the same travel
    functions: a département-wide action in Alençon for a person of Argentan."""
    from insertion_match.geo.gtfs_import import read_network
    from insertion_match.matcher.engine import MatchingEngine
    from tests.conftest import make_action, make_profile

    action = make_action(id="gtfs-alencon", sites=[{"commune": "Alençon", "insee": "61001"}],
                         freins=["mobilite"])
    local = make_action(id="gtfs-argentan", sites=[{"commune": "Argentan", "insee": "61006"}],
                        freins=["mobilite"])
    engine = MatchingEngine.build([action, local], gazetteer, territories)
    profile = make_profile(home={"insee": "61006"}, freins={"mobilite": 3}, mobility=PERSON[
        "mobility"])
    install_networks(())
    before = {i.id: i for i in engine.recommend(profile).items}
    install_networks([read_network(write_feed(tmp_path / "f.zip", gazetteer), "ter").network])
    after = {i.id: i for i in engine.recommend(profile).items}
    assert before["gtfs-alencon"].travel.source == "estimate"
    assert after["gtfs-alencon"].travel.source == "gtfs:ter"
    assert after["gtfs-alencon"].travel.minutes < before["gtfs-alencon"].travel.minutes - 60
    reach = next(r for r in after["gtfs-alencon"].reasons if r.code == "reach")
    assert reach.label.endswith(" min en transports en commun, d'après les horaires du "
                                "réseau ter")
    assert reach.contribution > 0
    assert after["gtfs-alencon"].score > before["gtfs-alencon"].score  # closer, better placed
    # the same commune: a local trip, the estimate as before
    assert after["gtfs-argentan"].travel == before["gtfs-argentan"].travel
    assert after["gtfs-argentan"].travel.source == "estimate"
