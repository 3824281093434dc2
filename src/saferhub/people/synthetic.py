"""Synthetic people for tests and the demonstration: common first names and surnames combined at
random, invented addresses and identifiers in ranges kept for testing. None of them is a real person."""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from saferhub.people.vocabulary import DISABILITIES, ETHNICITIES, SEXUALITIES

FEMALE_FIRST_NAMES = [
    "Amelia", "Olivia", "Isla", "Ava", "Mia", "Grace", "Lily", "Freya", "Emily", "Sophie", "Chloe", "Ella",
    "Ruby", "Evie", "Poppy", "Jessica", "Hannah", "Lucy", "Charlotte", "Megan", "Holly", "Leah", "Zara",
    "Aisha", "Priya", "Niamh", "Erin", "Katie", "Laura", "Rachel", "Gemma", "Kirsty", "Joanne", "Donna",
]
MALE_FIRST_NAMES = [
    "Oliver", "George", "Harry", "Jack", "Noah", "Leo", "Oscar", "Charlie", "Jacob", "Thomas", "James",
    "William", "Joshua", "Daniel", "Samuel", "Ryan", "Liam", "Connor", "Callum", "Kieran", "Adam", "Ben",
    "Craig", "Darren", "Gary", "Lee", "Mark", "Paul", "Stuart", "Wayne", "Imran", "Tariq", "Arjun", "Kofi",
]
SURNAMES = [
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright",
    "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke",
    "Patel", "Khan", "Lewis", "Harrison", "Martin", "Cooper", "Ward", "Morris", "Turner", "Hill", "Moore",
    "Atkinson", "Dobson", "Hodgson", "Barker", "Metcalfe", "Bell", "Fletcher", "Sutcliffe", "Pearson",
]
STREETS = [
    "Mill Lane", "Church Street", "Station Road", "Park Avenue", "Victoria Road", "The Green",
    "Manor Close", "Westfield Drive", "Orchard Way", "Chapel Street", "Beck Side", "Moor Lane",
]
# Towns with the first half of their postcodes; the second half is made up below.
TOWNS = [
    ("York", "YO10"), ("York", "YO24"), ("Scarborough", "YO12"), ("Harrogate", "HG1"), ("Harrogate", "HG2"),
    ("Northallerton", "DL6"), ("Richmond", "DL10"), ("Selby", "YO8"), ("Skipton", "BD23"), ("Whitby", "YO21"),
]


@dataclass
class SyntheticPerson:
    first_name: str
    last_name: str
    date_of_birth: dt.date
    gender: str
    ethnicity: str = ""
    disability: str = ""
    sexuality: str = ""
    aliases: list = field(default_factory=list)
    addresses: list = field(default_factory=list)
    identifiers: dict = field(default_factory=dict)

    def values(self) -> dict:
        """The keyword arguments `people.services.person_register` takes."""
        return {
            "first_name": self.first_name, "last_name": self.last_name, "date_of_birth": self.date_of_birth,
            "gender": self.gender, "ethnicity": self.ethnicity, "disability": self.disability,
            "sexuality": self.sexuality, "aliases": self.aliases, "addresses": self.addresses,
        }


def nhs_number(rng: random.Random) -> str:
    """A number in the 999 range the NHS keeps for test patients, with a correct check digit."""
    while True:
        digits = [9, 9, 9] + [rng.randrange(10) for _ in range(6)]
        check = 11 - sum(d * (10 - i) for i, d in enumerate(digits)) % 11
        check = 0 if check == 11 else check
        if check != 10:
            text = "".join(map(str, digits + [check]))
            return f"{text[:3]} {text[3:6]} {text[6:]}"


def police_nominal(rng: random.Random) -> str:
    return f"DEMO-{rng.randrange(100000, 999999)}"


def pupil_number(rng: random.Random) -> str:
    return "X" + "".join(str(rng.randrange(10)) for _ in range(12))


def address(rng: random.Random) -> dict:
    town, outward = rng.choice(TOWNS)
    inward = f"{rng.randrange(1, 10)}Z{rng.choice('ABDEFGHJLNPQRSTUWXY')}"
    return {"lines": [f"{rng.randrange(1, 120)} {rng.choice(STREETS)}", town], "postcode": f"{outward} {inward}"}


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def birth_date(rng: random.Random, *, youngest: int, oldest: int, today: dt.date) -> dt.date:
    """A date of birth giving an age from `youngest` to `oldest` years today."""
    earliest = _years_before(today, oldest + 1) + dt.timedelta(days=1)
    latest = _years_before(today, youngest)
    return earliest + dt.timedelta(days=rng.randrange((latest - earliest).days + 1))


def _characteristic(rng: random.Random, answers: list[tuple[str, str]], recorded: float) -> str:
    return rng.choice(answers)[0] if rng.random() < recorded else ""


def synthetic_person(rng: random.Random, *, sex: str, youngest: int, oldest: int, today: dt.date,
                     last_name: str | None = None, identifiers: tuple[str, ...] = ()) -> SyntheticPerson:
    first = rng.choice(FEMALE_FIRST_NAMES if sex == "female" else MALE_FIRST_NAMES)
    surname = last_name or rng.choice(SURNAMES)
    adult = oldest >= 18 and youngest >= 16
    person = SyntheticPerson(
        first_name=first, last_name=surname, date_of_birth=birth_date(rng, youngest=youngest, oldest=oldest, today=today),
        gender=sex if rng.random() < 0.95 else "",
        ethnicity=_characteristic(rng, ETHNICITIES, 0.8),
        disability=_characteristic(rng, DISABILITIES, 0.6),
        sexuality=_characteristic(rng, SEXUALITIES, 0.4) if adult else "",
        addresses=[address(rng)],
    )
    if adult and rng.random() < 0.25:
        person.aliases = [{"first_name": first, "last_name": rng.choice(SURNAMES)}]
    makers = {"police_nominal": police_nominal, "nhs_number": nhs_number, "pupil_number": pupil_number}
    person.identifiers = {kind: makers[kind](rng) for kind in identifiers}
    return person
