"""The scoring scheme: the DOMAIN.md default, band rules, JSON round trip and checks."""
import pytest
from django.core.exceptions import ValidationError

from saferhub.matac.scheme import CATEGORIES, DEFAULT_SCHEME, Scheme


def test_default_is_domain_md_section_4():
    s = DEFAULT_SCHEME
    assert s.window_days == 1095 and s.min_incidents == 2 and s.min_victims == 2 and s.min_age == 16
    assert s.recency_bands == ((91, 5), (182, 4), (365, 3), (730, 2)) and s.recency_else == 1
    assert s.frequency_bands == ((11, 5), (7, 4), (4, 3), (2, 2)) and s.frequency_else == 1
    assert s.gravity_bands == ((60, 5), (30, 4), (15, 3), (5, 2)) and s.gravity_else == 1
    assert s.victims_cap == 5 and dict(s.weights) == {"R": 1, "F": 1, "G": 1, "V": 2}
    assert dict(s.gravity_weights) == {
        "non_crime": 1, "criminal_damage": 2, "harassment": 3, "common_assault": 4, "breach_of_order": 6, "abh": 8,
        "stalking": 8, "coercive_control": 10, "threats_to_kill": 12, "strangulation": 15, "gbh": 20,
        "sexual_offence": 25, "rape": 25}


@pytest.mark.parametrize("days,points", [(0, 5), (91, 5), (92, 4), (182, 4), (183, 3), (365, 3), (366, 2), (730, 2),
                                         (731, 1), (1094, 1)])
def test_recency_points(days, points):
    assert DEFAULT_SCHEME.recency_points(days) == points


@pytest.mark.parametrize("incidents,points", [(1, 1), (2, 2), (3, 2), (4, 3), (6, 3), (7, 4), (10, 4), (11, 5), (40, 5)])
def test_frequency_points(incidents, points):
    assert DEFAULT_SCHEME.frequency_points(incidents) == points


@pytest.mark.parametrize("total,points", [(0, 1), (5, 1), (6, 2), (15, 2), (16, 3), (30, 3), (31, 4), (60, 4), (61, 5)])
def test_gravity_points(total, points):
    assert DEFAULT_SCHEME.gravity_points(total) == points


def test_victims_capped_and_score_weights():
    assert [DEFAULT_SCHEME.victim_points(n) for n in (1, 2, 5, 6, 30)] == [1, 2, 5, 5, 5]
    assert DEFAULT_SCHEME.total(5, 4, 3, 2) == 5 + 4 + 3 + 4


def test_round_trip_and_digest():
    data = DEFAULT_SCHEME.to_dict()
    assert Scheme.from_dict(data) == DEFAULT_SCHEME
    assert Scheme.from_dict(data).digest() == DEFAULT_SCHEME.digest()
    changed = DEFAULT_SCHEME.with_changes(victims_cap=4)
    assert changed.digest() != DEFAULT_SCHEME.digest()
    assert Scheme.from_dict({"window_days": 730}).window_days == 730
    assert len({DEFAULT_SCHEME, Scheme.from_dict(data), changed}) == 2


@pytest.mark.parametrize("changes,message", [
    ({"recency_bands": [[182, 4], [91, 5]]}, "recency_bands limits must strictly increase"),
    ({"frequency_bands": [[2, 2], [11, 5]]}, "frequency_bands limits must strictly decrease"),
    ({"gravity_bands": [[30, 4], [30, 3]]}, "gravity_bands limits must strictly decrease"),
    ({"weights": {"R": 1, "F": 1, "G": -1, "V": 2}}, "weights G must be at least 0"),
    ({"weights": {"R": 1, "F": 1, "G": 1}}, "weights must give exactly R, F, G and V"),
    ({"gravity_weights": {c: 1 for c in CATEGORIES if c != "rape"}}, "gravity_weights is missing: rape"),
    ({"gravity_weights": {**{c: 1 for c in CATEGORIES}, "arson": 3}}, "unknown categories: arson"),
    ({"gravity_weights": {**{c: 1 for c in CATEGORIES}, "gbh": -2}}, "gravity weight of gbh must be at least 0"),
    ({"window_days": 0}, "window_days must be at least 1"),
    ({"min_age": "16"}, "min_age must be a whole number"),
    ({"colour": "red"}, "Unknown scheme parameters: colour"),
    ({"format": 2}, "format 2 is not supported"),
])
def test_bad_schemes_are_refused_naming_the_parameter(changes, message):
    with pytest.raises(ValidationError) as error:
        Scheme.from_dict({**DEFAULT_SCHEME.to_dict(), **changes})
    assert any(message in m for m in error.value.messages), error.value.messages
