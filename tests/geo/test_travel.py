from __future__ import annotations

import numpy as np
import pytest

from insertion_match.geo import (
    DEFAULT_MAX_TRAVEL_MINUTES,
    MODE_LABELS_FR,
    Mode,
    available_modes,
    best_travel,
    travel_minutes,
)
from insertion_match.geo.travel import MAX_MINUTES

DISTANCES = np.array([0.0, 0.5, 1.0, 2.0, 4.9, 5.0, 10.0, 20.0, 50.0, 120.0])


def test_labels_and_default() -> None:
    assert MODE_LABELS_FR[Mode.public_transport] == "en transports en commun"
    assert set(MODE_LABELS_FR) == set(Mode)
    assert DEFAULT_MAX_TRAVEL_MINUTES == 45


@pytest.mark.parametrize("mode", list(Mode))
def test_travel_time_increases_with_distance(mode: Mode) -> None:
    minutes = travel_minutes(DISTANCES, mode)
    assert minutes.shape == DISTANCES.shape
    assert np.all(np.diff(minutes) > 0)


def test_car_is_faster_than_walking_at_20_km() -> None:
    car = travel_minutes(np.array([20.0]), Mode.car)[0]
    walk = travel_minutes(np.array([20.0]), Mode.walk)[0]
    assert car < walk
    assert 25 < car < 40  # 26 road-km, town then departmental roads, plus parking


def test_walking_one_km() -> None:
    # 1.3 road-km at 4.5 km/h
    assert travel_minutes(np.array([1.0]), Mode.walk)[0] == pytest.approx(1.3 / 4.5 * 60)


def test_negative_distance_is_refused() -> None:
    with pytest.raises(ValueError):
        travel_minutes(np.array([-1.0]), Mode.car)


# ---- available modes --------------------------------------------------------------------


def test_no_car_and_no_licence_means_no_car() -> None:
    availability = available_modes("none", "none", False)
    assert availability.modes == (Mode.walk,)
    assert availability.assumptions == ()


def test_licence_b_and_car() -> None:
    availability = available_modes("b", "car", True)
    assert availability.modes == (Mode.walk, Mode.car, Mode.public_transport)
    assert availability.assumptions == ()


@pytest.mark.parametrize("licence", ["code", "none"])
def test_a_car_without_a_licence_is_not_driven(licence: str) -> None:
    assert Mode.car not in available_modes(licence, "car", True).modes


def test_licence_without_a_car() -> None:
    assert Mode.car not in available_modes("b", "none", True).modes


def test_two_wheeler_and_bike() -> None:
    assert Mode.two_wheeler in available_modes("none", "two_wheeler", False).modes
    assert available_modes("none", "bike", False).modes == (Mode.walk, Mode.bike)


def test_unknown_answers_are_assumed_and_said() -> None:
    availability = available_modes(None, None, None)
    assert availability.modes == (Mode.walk, Mode.public_transport)
    text = " ".join(availability.assumptions)
    assert "Accès aux transports en commun non renseigné : supposé disponible" in text
    assert "Permis de conduire non renseigné" in text
    assert "Véhicule non renseigné" in text


def test_unknown_licence_with_a_car_gives_no_car() -> None:
    availability = available_modes(None, "car", False)
    assert Mode.car not in availability.modes
    assert len(availability.assumptions) == 1


def test_walking_is_always_possible() -> None:
    for licence in (None, "none", "code", "b"):
        for vehicle in (None, "none", "car", "two_wheeler", "bike"):
            for transport in (None, True, False):
                assert available_modes(licence, vehicle, transport).modes[0] is Mode.walk


def test_invalid_value_is_refused() -> None:
    with pytest.raises(ValueError):
        available_modes("B permit", "car", True)


# ---- best travel -------------------------------------------------------------------------


def test_best_travel_picks_the_minimum() -> None:
    modes = (Mode.walk, Mode.car, Mode.public_transport)
    minutes, index = best_travel(DISTANCES, modes)
    table = np.stack([travel_minutes(DISTANCES, m) for m in modes])
    table[0] = np.where(table[0] > MAX_MINUTES[Mode.walk], np.inf, table[0])
    assert np.allclose(minutes, table.min(axis=0))
    assert np.array_equal(index, table.argmin(axis=0))
    assert index[0] == 0  # 0 km: on foot, no parking
    assert index[-1] == 1  # 120 km: by car


def test_walking_is_capped() -> None:
    minutes, index = best_travel(np.array([1.0, 10.0]), (Mode.walk,))
    assert np.isfinite(minutes[0]) and index[0] == 0
    assert minutes[1] == np.inf and index[1] == -1


def test_cycling_is_capped_then_public_transport_takes_over() -> None:
    minutes, index = best_travel(
        np.array([5.0, 30.0]), (Mode.walk, Mode.bike, Mode.public_transport)
    )
    assert list(index) == [1, 2]
    assert minutes[1] == pytest.approx(travel_minutes(np.array([30.0]), Mode.public_transport)[0])


def test_no_mode_and_unknown_distance() -> None:
    minutes, index = best_travel(np.array([1.0, np.nan]), ())
    assert np.all(np.isinf(minutes)) and np.all(index == -1)
    minutes, index = best_travel(np.array([1.0, np.nan]), (Mode.car,))
    assert np.isfinite(minutes[0]) and np.isnan(minutes[1])
    assert list(index) == [0, -1]


def test_best_travel_keeps_the_shape() -> None:
    distances = np.array([[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]])
    minutes, index = best_travel(distances, (Mode.walk, Mode.car))
    assert minutes.shape == index.shape == (2, 3)
