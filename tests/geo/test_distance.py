from __future__ import annotations

import numpy as np
import pytest

from insertion_match.geo import CoordinateError, Gazetteer, GeoError, haversine_km


def test_alencon_flers_crow_fly(gazetteer: Gazetteer) -> None:
    alencon, flers = gazetteer.by_insee("61001"), gazetteer.by_insee("61169")
    distance = haversine_km(alencon.lat, alencon.lon, flers.lat, flers.lon)
    assert isinstance(distance, float)
    # Between the commune centroids; the town halls are about 60 km apart as well.
    assert distance == pytest.approx(59.1, abs=0.3)


def test_textbook_values() -> None:
    assert haversine_km(0.0, 0.0, 0.0, 1.0) == pytest.approx(111.195, abs=0.01)
    assert haversine_km(48.0, 0.0, 48.0, 0.0) == 0.0
    assert haversine_km(90.0, 0.0, -90.0, 0.0) == pytest.approx(np.pi * 6371.0088)


def test_symmetric() -> None:
    assert haversine_km(48.4, 0.1, 48.7, -0.5) == pytest.approx(haversine_km(48.7, -0.5, 48.4, 0.1))


def test_one_origin_against_many(gazetteer: Gazetteer) -> None:
    flers = gazetteer.by_insee("61169")
    distances = haversine_km(flers.lat, flers.lon, gazetteer.lat, gazetteer.lon)
    assert distances.shape == (len(gazetteer),)
    assert distances[gazetteer.index_of("61169")] == 0.0
    assert np.all(distances >= 0)


def test_broadcasts_to_a_matrix() -> None:
    lat1 = np.array([[48.0], [49.0], [50.0]])
    lon1 = np.array([[0.0], [1.0], [2.0]])
    lat2 = np.array([48.0, 48.5])
    lon2 = np.array([0.0, 0.5])
    matrix = haversine_km(lat1, lon1, lat2, lon2)
    assert matrix.shape == (3, 2)
    assert matrix[0, 0] == 0.0
    assert matrix[1, 1] == pytest.approx(haversine_km(49.0, 1.0, 48.5, 0.5))


def test_nan_position_gives_nan() -> None:
    distances = haversine_km(48.0, 0.0, np.array([48.0, np.nan]), np.array([1.0, np.nan]))
    assert np.isfinite(distances[0]) and np.isnan(distances[1])


def test_latitude_out_of_range_names_both_values() -> None:
    with pytest.raises(CoordinateError) as caught:
        haversine_km(200.0, 2.35, 48.0, 0.0)
    message = str(caught.value)
    assert "200.0" in message and "2.35" in message
    assert isinstance(caught.value, GeoError)


def test_longitude_out_of_range_in_an_array() -> None:
    with pytest.raises(CoordinateError, match="longitude 190.0"):
        haversine_km(48.0, 0.0, np.array([48.0, 48.5]), np.array([0.0, 190.0]))
