"""Public transport from a GTFS feed: the import, the stop-to-stop table, door-to-door times
before (estimate) and after (feed), the fallback outside coverage, bad feeds, the CLI.

The feed is written by the tests (``gtfs_feed.py``): a TER line Argentan – Surdon – Alençon and
an Essonne line Étampes – Brétigny with a bus on to Évry-Courcouronnes.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np
import pytest

from insertion_match.geo import Mode
from insertion_match.geo.gtfs_import import FeedError, default_name, read_network
from insertion_match.geo.transit import (
    ACCESS_RADIUS_KM,
    MAX_WAIT_MINUTES,
    TransitNetwork,
    active_networks,
    install_networks,
    load_networks,
    wait_minutes,
    walk_minutes,
)
from insertion_match.geo.travel import (
    ESTIMATE_SOURCE,
    best_travel,
    best_travel_between,
    best_travel_to_sites,
    haversine_km,
    mode_minutes_between,
    source_at,
    timetable_note,
)
from tests.geo.gtfs_feed import feed_tables, write_feed

PT = (Mode.walk, Mode.public_transport)


@pytest.fixture(scope="module")
def feed(tmp_path_factory, gazetteer) -> Path:
    return write_feed(tmp_path_factory.mktemp("gtfs") / "test-feed.zip", gazetteer)


@pytest.fixture(scope="module")
def network(feed) -> TransitNetwork:
    return read_network(feed, "test").network


@pytest.fixture
def installed(network):
    """The test network installed for this test only (process-wide state, reset after)."""
    before = active_networks()
    install_networks([network])
    yield network
    install_networks(before)


def _at(gazetteer, insee: str) -> tuple[float, float]:
    c = gazetteer.resolve(insee=insee)
    return c.lat, c.lon


def _stop(network: TransitNetwork, stop_id: str) -> int:
    return int(np.flatnonzero(network.stop_ids == stop_id)[0])


# -- the import -------------------------------------------------------------------------------
def test_import_builds_the_stop_to_stop_table(feed, network):
    summary = read_network(feed, "test")
    assert summary.routes == 3 and summary.stops == 8
    assert summary.service_date[:4] in ("2026", "2027")
    assert network.source == "gtfs:test"
    table = network.minutes
    arg, sur, ale = _stop(network, "ARG"), _stop(network, "SUR"), _stop(network, "ALE")
    # 3 trains between 06:00 and 09:30: headway 70 min, the wait is bounded to 15 min
    assert wait_minutes(210 / 3) == MAX_WAIT_MINUTES
    assert table[arg, ale] == pytest.approx(MAX_WAIT_MINUTES + 28)
    assert table[arg, sur] == pytest.approx(MAX_WAIT_MINUTES + 12)
    assert table[ale, arg] == pytest.approx(MAX_WAIT_MINUTES + 28)  # the trains back
    assert math.isinf(table[arg, arg])  # no round trip
    # Étampes → Évry: the RER-like line every 15 min (14 departures in the window: wait 7.5),
    # 24 min, a 150 m walk to the bus stop, the bus every 20 min from 06:05 (11 departures:
    # wait 210 / 11 / 2), 28 min
    eta, evr, bre = _stop(network, "ETA"), _stop(network, "EVR"), _stop(network, "BRE")
    transfer = float(walk_minutes(haversine_km(network.lat[bre], network.lon[bre],
                                               network.lat[_stop(network, "BREB")],
                                               network.lon[_stop(network, "BREB")])))
    assert table[eta, evr] == pytest.approx(
        7.5 + 24 + max(transfer, 1.0) + wait_minutes(210 / 11) + 28, abs=0.1)
    assert math.isinf(table[evr, eta])  # no bus back in the feed: no journey
    assert math.isinf(table[arg, evr])  # two networks, no link


def test_stored_file_round_trip(tmp_path, network):
    path = tmp_path / "transit" / "test.npz"
    network.save(path)
    again = TransitNetwork.load(path)
    assert again.name == "test" and list(again.stop_ids) == list(network.stop_ids)
    np.testing.assert_allclose(again.minutes, network.minutes, atol=0.05)  # tenths of a minute
    assert again.meta["service_date"] == network.meta["service_date"]
    assert [n.name for n in load_networks(tmp_path / "transit")] == ["test"]
    (tmp_path / "transit" / "broken.npz").write_bytes(b"not a network")
    assert [n.name for n in load_networks(tmp_path / "transit")] == ["test"]  # refused, logged
    assert load_networks(tmp_path / "nowhere") == ()


# -- door to door: before and after -------------------------------------------------------------
@pytest.mark.parametrize(("home", "place", "estimate_min", "feed_min"), [
    ("61006", "61001", 125, 75),  # Argentan → Alençon by the TER
    ("91223", "91228", 115, 105),  # Étampes → Évry-Courcouronnes, one transfer
])
def test_trip_between_served_communes_before_and_after(gazetteer, network, home, place,
                                                       estimate_min, feed_min):
    (hlat, hlon), (plat, plon) = _at(gazetteer, home), _at(gazetteer, place)
    before, _, src_before = best_travel_between(hlat, hlon, [plat], [plon], PT)
    install_networks([network])
    try:
        after, mode, src_after = best_travel_between(hlat, hlon, [plat], [plon], PT)
    finally:
        install_networks(())
    assert src_before[0] == ESTIMATE_SOURCE and before[0] > estimate_min
    # the estimate alone is what best_travel gives from the distance
    km = haversine_km(hlat, hlon, plat, plon)
    assert before[0] == pytest.approx(best_travel(np.array([km]), PT)[0][0])
    assert PT[mode[0]] is Mode.public_transport and src_after[0] == "gtfs:test"
    assert after[0] < feed_min < before[0]
    # door to door = walk to the stop + table (wait included) + walk from the stop
    o, d = network.door_to_door(hlat, hlon, [plat], [plon])[0], after[0]
    assert o == pytest.approx(d)


def test_walks_and_waits_add_up(gazetteer, network):
    (hlat, hlon), (plat, plon) = _at(gazetteer, "61006"), _at(gazetteer, "61001")
    arg, ale = _stop(network, "ARG"), _stop(network, "ALE")
    walk_in = walk_minutes(haversine_km(hlat, hlon, network.lat[arg], network.lon[arg]))
    walk_out = walk_minutes(haversine_km(network.lat[ale], network.lon[ale], plat, plon))
    expected = walk_in + MAX_WAIT_MINUTES + 28 + walk_out
    assert network.door_to_door(hlat, hlon, plat, plon) == pytest.approx(expected, abs=0.01)


def test_fallback_outside_coverage(gazetteer, installed):
    home = _at(gazetteer, "61006")  # Argentan: near a stop
    places = {"61169": "Flers: no stop", "61001": "Alençon: served", "91228": "other network",
              "61006": "same commune: local trip"}
    lat = np.array([_at(gazetteer, k)[0] for k in places])
    lon = np.array([_at(gazetteer, k)[1] for k in places])
    stacked, source = mode_minutes_between(home[0], home[1], lat, lon, PT)
    install_networks(())
    estimate, _ = mode_minutes_between(home[0], home[1], lat, lon, PT)
    install_networks([installed])
    assert list(source) == [ESTIMATE_SOURCE, "gtfs:test", ESTIMATE_SOURCE, ESTIMATE_SOURCE]
    served = 1
    keep = np.arange(len(places)) != served
    np.testing.assert_allclose(stacked[:, keep], estimate[:, keep])  # unchanged elsewhere
    assert stacked[1, served] < estimate[1, served]
    np.testing.assert_allclose(stacked[0], estimate[0])  # walking is never the feed's
    # a home far from any stop: the estimate everywhere
    far = _at(gazetteer, "61169")
    _, src = mode_minutes_between(far[0], far[1], lat, lon, PT)
    assert set(src) == {ESTIMATE_SOURCE}
    # without public transport among the modes, nothing changes
    minutes, index, src = best_travel_between(home[0], home[1], lat, lon, (Mode.walk,))
    assert set(src) == {None, ESTIMATE_SOURCE} and (index[np.isinf(minutes)] == -1).all()


def test_many_origins_to_one_place_is_the_same_computation(gazetteer, installed):
    homes = ["61006", "61101", "61169", "61001"]
    lat = np.array([_at(gazetteer, k)[0] for k in homes])
    lon = np.array([_at(gazetteer, k)[1] for k in homes])
    plat, plon = _at(gazetteer, "61001")
    reverse = installed.door_to_door(lat, lon, plat, plon)
    forward = np.array([installed.door_to_door(a, b, plat, plon) for a, b in zip(lat, lon,
                                                                                  strict=True)])
    np.testing.assert_allclose(reverse, forward.ravel())
    assert np.isfinite(reverse[:2]).all() and math.isinf(reverse[2])


def test_quickest_site_of_places_with_several_sites(gazetteer, installed):
    home = _at(gazetteer, "61006")
    # place 0: sites in Flers and Alençon (Flers is nearer, Alençon quicker by the train);
    # place 1: Alençon only, but that site ignored (a stand-in beside a real place) and Flers
    sites = ["61169", "61001", "61001", "61169"]
    lat = np.array([_at(gazetteer, k)[0] for k in sites])
    lon = np.array([_at(gazetteer, k)[1] for k in sites])
    start = np.array([0, 2])
    ignored = np.array([False, False, True, False])
    minutes, index, source = best_travel_to_sites(home[0], home[1], lat, lon, start, ignored, PT)
    assert list(source) == ["gtfs:test", ESTIMATE_SOURCE]
    assert [PT[i] for i in index] == [Mode.public_transport, Mode.public_transport]
    assert minutes[0] < minutes[1]
    install_networks(())
    est, _, src = best_travel_to_sites(home[0], home[1], lat, lon, start, ignored, PT)
    km = haversine_km(home[0], home[1], lat, lon)
    np.testing.assert_allclose(est, [best_travel(np.array([min(km[0], km[1])]), PT)[0][0],
                                     best_travel(np.array([km[3]]), PT)[0][0]])
    assert list(src) == [ESTIMATE_SOURCE] * 2


def test_explanation_words():
    sources = np.array(["gtfs:tao", ESTIMATE_SOURCE, None], dtype=object)
    assert timetable_note(sources, 0) == ", d'après les horaires du réseau tao"
    assert timetable_note(sources, 1) == "" and timetable_note(None, 0) == ""
    assert [source_at(sources, i) for i in range(3)] == ["gtfs:tao", "estimate", "estimate"]


def test_access_radius_bounds_the_walk(gazetteer, network):
    arg = _stop(network, "ARG")
    # a point 1.6 km north of the Argentan stop: no stop within reach, the feed does not cover
    lat = network.lat[arg] + (ACCESS_RADIUS_KM + 0.1) / 111.195
    plat, plon = _at(gazetteer, "61001")
    assert math.isinf(network.door_to_door(lat, network.lon[arg], plat, plon))
    near = network.lat[arg] + (ACCESS_RADIUS_KM - 0.1) / 111.195
    assert math.isfinite(network.door_to_door(near, network.lon[arg], plat, plon))


# -- bad feeds ----------------------------------------------------------------------------------
def _bad(tmp_path, gazetteer, **kwargs) -> list[str]:
    path = write_feed(tmp_path / "bad.zip", gazetteer, **kwargs)
    with pytest.raises(FeedError) as err:
        read_network(path, "bad")
    return err.value.problems


def test_bad_feeds_are_refused_with_every_reason(tmp_path, gazetteer):
    tables = feed_tables(gazetteer)
    missing = _bad(tmp_path, gazetteer, drop=("stop_times.txt", "calendar.txt"))
    assert missing == [("fichier(s) GTFS manquant(s) : stop_times.txt, calendar.txt ou "
                        "calendar_dates.txt")]
    lines = tables["stop_times.txt"].splitlines()
    lines[3] = lines[3].replace(":00,", ":7x,", 1)  # an unreadable time (line 4 of the file)
    lines[6] = lines[6].replace(",ALE,", ",NOWHERE,")  # an unknown stop (line 7)
    problems = _bad(tmp_path, gazetteer, replace={"stop_times.txt": "\n".join(lines) + "\n"})
    assert any(p.startswith("stop_times.txt ligne 4 ") and "horaire illisible" in p
               for p in problems), problems
    assert any("stop_times.txt ligne 7 : arrêt NOWHERE inconnu" in p for p in problems), problems
    stops = tables["stops.txt"].replace("Argentan gare,48.", "Argentan gare,148.")
    problems = _bad(tmp_path, gazetteer, replace={"stops.txt": stops})
    assert problems == [p for p in problems if "coordonnées absentes ou hors limites" in p]
    assert len(problems) == 1 and "(ARG)" in problems[0]
    text = tables["stops.txt"].replace("Surdon gare,48.", "Surdon gare,x48.")  # not a number
    problems = _bad(tmp_path, gazetteer, replace={"stops.txt": text})
    assert len(problems) == 1 and problems[0].startswith("stops.txt ligne 3 (SUR) : coordonnées")
    no_column = tables["routes.txt"].replace("route_id,", "ligne,", 1)
    assert _bad(tmp_path, gazetteer, replace={"routes.txt": no_column}) == [
        "routes.txt : colonne route_id manquante"]
    weekend = tables["calendar.txt"].replace("1,1,1,1,1,0,0", "0,0,0,0,0,1,1")
    assert _bad(tmp_path, gazetteer, replace={"calendar.txt": weekend}) == [
        "aucune course un jour de semaine (lundi–vendredi) dans le calendrier du flux"]
    not_zip = tmp_path / "feed.zip"
    not_zip.write_text("agency_id,agency_name\n")
    with pytest.raises(FeedError, match="n'est pas une archive zip"):
        read_network(not_zip, "x")
    evening = tables["stop_times.txt"]
    for hour in ("06", "07", "08", "09"):
        evening = evening.replace(f",{hour}:", f",2{int(hour) - 4}:")
    problems = _bad(tmp_path, gazetteer, replace={"stop_times.txt": evening})
    assert len(problems) == 1 and problems[0].startswith("aucun départ entre 06h00 et 09h30")


# -- the command line ---------------------------------------------------------------------------
def test_cli_import_list_and_refusal(tmp_path, monkeypatch, capsys, feed, gazetteer):
    from insertion_match.service.cli import main

    monkeypatch.setenv("IM_ENVIRONMENT", "test")
    monkeypatch.setenv("IM_VAR_DIR", str(tmp_path))
    assert main(["transit", "import", str(feed), "--name", "orne-essonne"]) == 0
    out = capsys.readouterr().out
    assert "réseau « orne-essonne »" in out and "3 ligne(s)" in out and "8 arrêt(s)" in out
    stored = tmp_path / "transit" / "orne-essonne.npz"
    assert stored.is_file()
    assert main(["transit", "list"]) == 0
    assert "orne-essonne : 8 arrêts" in capsys.readouterr().out
    before = stored.read_bytes()
    bad = write_feed(tmp_path / "bad.zip", gazetteer, drop=("stops.txt",))
    assert main(["transit", "import", str(bad), "--name", "orne-essonne"]) == 1
    err = capsys.readouterr().err
    assert "stops.txt" in err and "rien n'est enregistré" in err
    assert stored.read_bytes() == before  # the stored network is untouched
    assert main(["transit", "import", str(bad), "--name", "autre"]) == 1
    assert sorted(p.name for p in (tmp_path / "transit").iterdir()) == ["orne-essonne.npz"]
    assert main(["transit", "import", str(feed), "--name", "../evil"]) == 1
    assert "nom de réseau invalide" in capsys.readouterr().err
    assert main(["transit", "import", str(tmp_path / "absent.zip")]) == 1
    assert "fichier introuvable" in capsys.readouterr().err
    assert default_name(Path("/x/TAO Orne 2026.zip")) == "TAO-Orne-2026"


def test_a_feed_zip_may_hold_its_files_in_a_folder(tmp_path, gazetteer):
    plain = write_feed(tmp_path / "plain.zip", gazetteer)
    nested = tmp_path / "nested.zip"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(nested, "w") as dst:
        for name in src.namelist():
            dst.writestr(f"gtfs/{name}", src.read(name))
    # gtfs-kit reads the files wherever they are in the archive (a zipped folder is common)
    net = read_network(nested, "nested").network
    assert len(net) == 8
    np.testing.assert_array_equal(net.minutes, read_network(plain, "plain").network.minutes)
