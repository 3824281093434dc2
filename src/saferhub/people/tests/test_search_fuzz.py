"""Hypothesis throws arbitrary input at the person search, on the page and through the API: any
unicode in the names (SQL and HTML metacharacters, right-to-left marks, zero-width spaces, NULs,
very long strings), impossible and enormous dates, identifiers of any kind, and the real details of
people in and out of the searcher's scope with their case, spacing and accents changed. The search
never fails with a server error, never finds someone outside the scope, finds in-scope people
however their name is typed, and explains every refusal as the GOV.UK Design System does."""
import datetime as dt
import html
import re
import unicodedata

import pytest
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from saferhub.people.tests import matrix

pytestmark = pytest.mark.django_db
SEARCHER = "a_contributor"
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
NASTY = ["'", '"', "';--", "' OR '1'='1", "%", "_", "\\", "<script>alert(1)</script>", "&amp;", "\u202e", "\u200f",
         "\u200b", "\x00", "\ufeff", "\U0001d56b", "Ωμέγα", "محمد", "\r\n", "{{7*7}}", "${7*7}", "NULL", " "]
# Changes to a name that the blind index is meant to see through (case, spacing, accents, marks).
SAME_NAME = {
    "upper": str.upper,
    "lower": str.lower,
    "spaced": lambda name: f"  {name}  ",
    "right to left": lambda name: "\u200f" + name,
    "accented": lambda name: unicodedata.normalize("NFC", name[0] + "\u0301" + name[1:]),
}
# Messages Django writes when a form forgets to give its own: never what a user should read.
DJANGO_DEFAULTS = ["This field is required", "Ensure this value", "Enter a valid", "Select a valid choice",
                   "Null characters are not allowed"]


@pytest.fixture
def world():
    return matrix.build_world()


@pytest.fixture
def client(world):
    return matrix.sign_in(Client(), world, SEARCHER)


def _text():
    return st.one_of(
        st.text(max_size=40),
        st.text(min_size=90, max_size=400),
        st.lists(st.sampled_from(NASTY), max_size=6).map("".join),
        st.builds(lambda a, b: a + b, st.sampled_from(NASTY), st.text(max_size=10)),
    )


def _date_part():
    return st.one_of(st.just(""), st.integers(min_value=-5, max_value=10**25).map(str), st.text(max_size=8),
                     st.text(alphabet="0123456789٣１²", min_size=1, max_size=30))


@st.composite
def searches(draw):
    """One search: random, or aimed at a person of the world (in scope or not) with their name
    typed differently; returns the form values, the person aimed at and whether it should find them."""
    aim = draw(st.sampled_from([None, *matrix.PEOPLE]))
    if aim is None:
        values = {"first_name": draw(_text()), "last_name": draw(_text()),
                  "day": draw(_date_part()), "month": draw(_date_part()), "year": draw(_date_part()),
                  "identifier_kind": draw(st.one_of(st.sampled_from(["", "police_nominal", "nhs_number", "pupil_number"]), st.text(max_size=12))),
                  "identifier": draw(st.one_of(st.just(""), _text()))}
        return values, None, False
    spec = matrix.PEOPLE[aim]
    if spec.identifiers and draw(st.booleans()):
        kind, value = draw(st.sampled_from(spec.identifiers))
        typed = draw(st.sampled_from([value, value.lower(), value.replace(" ", ""), f" {value} ", value.replace("-", " ")]))
        return {"first_name": "", "last_name": "", "day": "", "month": "", "year": "", "identifier_kind": kind,
                "identifier": typed}, aim, True
    change = draw(st.sampled_from(sorted(SAME_NAME)))
    first, last = SAME_NAME[change](spec.first_name), SAME_NAME[change](spec.last_name)
    if draw(st.booleans()):
        first, last = last, first  # either order of the names matches
    dob = spec.date_of_birth
    return {"first_name": first, "last_name": last, "day": str(dob.day), "month": str(dob.month), "year": str(dob.year),
            "identifier_kind": "", "identifier": ""}, aim, True


def _out_of_scope_tokens(world, values: dict) -> dict[str, str]:
    visible = matrix.scope_of(SEARCHER).view_people
    typed = " ".join(str(v) for v in values.values())
    tokens = {}
    for label, spec in matrix.PEOPLE.items():
        if label in visible:
            continue
        tokens[world.people[label].reference] = label
        # A form shows back what was typed; only what was not typed would be a leak.
        tokens.update({token: label for token in spec.tokens() if token not in typed})
    return tokens


def _check_messages(messages: list[str], where: str) -> None:
    for message in messages:
        assert message.strip(), where
        assert message[0].isupper() and not message.endswith("."), f"{where}: {message!r} is not GOV.UK style"
        assert not any(default in message for default in DJANGO_DEFAULTS), f"{where}: Django's own {message!r}"


ERROR_LINK = re.compile(r'<a href="#([\w-]+)">([^<]*)</a>')


@FUZZ
@given(search=searches())
@example(search=({"first_name": "Ottoline", "last_name": "Vexworth", "day": "99999999999999999999", "month": "4",
                  "year": "1991", "identifier_kind": "", "identifier": ""}, None, False))
@example(search=({"first_name": "Zephy\x00rine", "last_name": "Quillfeather", "day": "19", "month": "7",
                  "year": "1983", "identifier_kind": "", "identifier": ""}, None, False))
def test_the_search_page_survives_anything_and_finds_only_people_in_scope(world, client, search):
    values, aim, should_find = search
    response = client.post("/people/search/", {
        "first_name": values["first_name"], "last_name": values["last_name"], "date_of_birth-day": values["day"],
        "date_of_birth-month": values["month"], "date_of_birth-year": values["year"],
        "identifier_kind": values["identifier_kind"], "identifier": values["identifier"]})
    assert response.status_code == 200
    page = response.content.decode()
    text = matrix.body_text(response)
    leaked = matrix.leaks(text, _out_of_scope_tokens(world, values))
    assert not leaked, f"{values!r} shows {leaked}"
    if aim is not None and should_find:
        found = world.people[aim].reference in text
        assert found == (aim in matrix.scope_of(SEARCHER).view_people), (values, aim)
    if "govuk-error-summary" in page:
        summary = page[page.index("govuk-error-summary"):]
        summary = summary[:summary.index("</ul>")]
        messages = [m for _, m in ERROR_LINK.findall(summary)]
        assert messages, values
        assert "<title>Error: " in page
        _check_messages([html.unescape(m) for m in messages], repr(values))
    else:
        assert "<title>Error: " not in page


@FUZZ
@given(search=searches(), dob_as=st.sampled_from(["iso", "text", "number", "missing"]), junk=st.text(max_size=20))
@example(search=({"first_name": "Ottoline", "last_name": "Vexworth", "day": "22", "month": "4", "year": "1991",
                  "identifier_kind": "", "identifier": ""}, "b_victim", True), dob_as="iso", junk="")
def test_the_api_search_survives_anything_and_finds_only_people_in_scope(world, client, search, dob_as, junk):
    values, aim, should_find = search
    body = {"first_name": values["first_name"], "last_name": values["last_name"],
            "identifier_kind": values["identifier_kind"], "identifier": values["identifier"]}
    try:
        iso = dt.date(int(values["year"]), int(values["month"]), int(values["day"])).isoformat()
    except (ValueError, OverflowError):
        iso = f"{values['year']}-{values['month']}-{values['day']}"
    if dob_as == "iso":
        body["date_of_birth"] = iso
    elif dob_as == "text":
        body["date_of_birth"] = junk
    elif dob_as == "number":
        body["date_of_birth"] = values["day"] if values["day"].isdigit() and values["day"].isascii() else 0
    response = client.post("/api/people/persons/search/", body, content_type="application/json")
    assert response.status_code in (200, 422), (body, response.status_code)
    answer = response.json()
    if response.status_code == 422:
        assert isinstance(answer["detail"], list) and answer["detail"], body
        for error in answer["detail"]:
            assert isinstance(error["msg"], str) and error["msg"].strip() and isinstance(error["loc"], list), error
        return
    visible = {world.people[label].pk for label in matrix.scope_of(SEARCHER).view_people}
    found = {person["id"] for person in answer}
    assert found <= visible, (body, found - visible)
    if should_find and (values["identifier"] or dob_as == "iso"):
        assert (world.people[aim].pk in found) == (world.people[aim].pk in visible), (body, aim)


@pytest.mark.parametrize("invisible", ["\u200b", "\u00ad", "\u200d", "\ufeff"], ids=["zero width space", "soft hyphen", "zero width joiner", "byte order mark"])
def test_an_invisible_character_inside_a_name_still_finds_the_person(world, client, invisible):
    """A name pasted from an email or a document can carry characters no one sees. The blind index
    turns each into a space ('Zephy rine'), so the exact-match search silently misses the person:
    for a MARAC, a missed match is a missed repeat referral."""
    spec = matrix.PEOPLE["a_victim"]
    typed = spec.first_name[:5] + invisible + spec.first_name[5:]
    response = client.post("/api/people/persons/search/", {
        "first_name": typed, "last_name": spec.last_name, "date_of_birth": spec.date_of_birth.isoformat()},
        content_type="application/json")
    assert [person["id"] for person in response.json()] == [world.people["a_victim"].pk]
