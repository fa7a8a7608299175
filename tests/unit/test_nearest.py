"""Nearest locations: the same answer as measuring every great circle, at a fraction of it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from openoms.domain.network import ByLatitude, GeoPoint, great_circle_km, nearest_locations
from tests.conftest import location

points = st.builds(
    GeoPoint,
    st.floats(min_value=41.0, max_value=51.5),
    st.floats(min_value=-5.0, max_value=9.5),
)


@given(st.lists(points, min_size=0, max_size=40), points, st.integers(min_value=1, max_value=6))
def test_nearest_locations_match_sorting_every_distance(
    spots: list[GeoPoint], here: GeoPoint, count: int
) -> None:
    places = [location(f"L{i:02d}", point=spot) for i, spot in enumerate(spots)]
    expected = sorted(places, key=lambda at: (great_circle_km(at.point, here), at.code))[:count]
    assert nearest_locations(places, here, count) == expected


def test_a_tie_off_the_point_s_latitude_goes_to_the_code_that_sorts_first() -> None:
    """Found by Hypothesis: the latitude gap and the great circle of two points on one meridian
    differ in their last bit, which once ended the walk before the tie was seen."""
    here = GeoPoint(44.0, 0.0)
    twins = [location(code, point=GeoPoint(41.0, 0.0)) for code in ("L00", "L01")]
    assert [at.code for at in nearest_locations(twins, here, 1)] == ["L00"]


def test_equally_near_locations_go_to_the_code_that_sorts_first() -> None:
    here = GeoPoint(45.0, 5.0)
    twins = [location(code, point=GeoPoint(45.1, 5.0)) for code in ("B", "A", "C")]
    assert [at.code for at in nearest_locations(twins, here, 2)] == ["A", "B"]


@given(
    st.lists(points, min_size=0, max_size=40),
    st.lists(points, min_size=1, max_size=5),
    st.integers(min_value=1, max_value=6),
)
def test_one_latitude_index_answers_for_every_point_as_sorting_every_distance(
    spots: list[GeoPoint], heres: list[GeoPoint], count: int
) -> None:
    places = [location(f"L{i:02d}", point=spot) for i, spot in enumerate(spots)]
    index = ByLatitude(places)
    for here in heres:
        by_distance = sorted(places, key=lambda at: (great_circle_km(at.point, here), at.code))
        assert index.nearest(here, count) == by_distance[:count]
