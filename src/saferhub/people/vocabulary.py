"""The answer lists for a person's recorded characteristics and identifiers, and how each is
written on a page. Stored values are the codes; an empty value means "not recorded"."""
from __future__ import annotations

import re

NOT_RECORDED = "Not recorded"

GENDERS = [
    ("female", "Female"),
    ("male", "Male"),
    ("non_binary", "Non-binary"),
    ("another", "Another gender identity"),
    ("prefer_not", "Prefers not to say"),
]

# The Office for National Statistics' 2021 census categories for England and Wales.
ETHNICITIES = [
    ("white_british", "White: English, Welsh, Scottish, Northern Irish or British"),
    ("white_irish", "White: Irish"),
    ("white_gypsy_traveller", "White: Gypsy or Irish Traveller"),
    ("white_roma", "White: Roma"),
    ("white_other", "White: any other White background"),
    ("mixed_white_black_caribbean", "Mixed: White and Black Caribbean"),
    ("mixed_white_black_african", "Mixed: White and Black African"),
    ("mixed_white_asian", "Mixed: White and Asian"),
    ("mixed_other", "Mixed: any other Mixed or multiple ethnic background"),
    ("asian_indian", "Asian or Asian British: Indian"),
    ("asian_pakistani", "Asian or Asian British: Pakistani"),
    ("asian_bangladeshi", "Asian or Asian British: Bangladeshi"),
    ("asian_chinese", "Asian or Asian British: Chinese"),
    ("asian_other", "Asian or Asian British: any other Asian background"),
    ("black_african", "Black, Black British, Caribbean or African: African"),
    ("black_caribbean", "Black, Black British, Caribbean or African: Caribbean"),
    ("black_other", "Black, Black British, Caribbean or African: any other Black background"),
    ("other_arab", "Other ethnic group: Arab"),
    ("other_any", "Other ethnic group: any other ethnic group"),
    ("prefer_not", "Prefers not to say"),
]

DISABILITIES = [
    ("yes_a_lot", "Yes, day-to-day activities limited a lot"),
    ("yes_a_little", "Yes, day-to-day activities limited a little"),
    ("no", "No"),
    ("prefer_not", "Prefers not to say"),
]

SEXUALITIES = [
    ("heterosexual", "Straight or heterosexual"),
    ("gay_lesbian", "Gay or lesbian"),
    ("bisexual", "Bisexual"),
    ("another", "Another sexual orientation"),
    ("prefer_not", "Prefers not to say"),
]

CHARACTERISTICS = {
    "gender": GENDERS,
    "ethnicity": ETHNICITIES,
    "disability": DISABILITIES,
    "sexuality": SEXUALITIES,
}


def characteristic_label(field: str, value: str) -> str:
    """The words for a stored code; a value recorded before these lists existed is shown as it is."""
    if not value:
        return NOT_RECORDED
    return dict(CHARACTERISTICS[field]).get(value, value)


def nhs_number_valid(value: str) -> bool:
    """Ten digits whose last is the modulus 11 check digit of the first nine."""
    digits = re.sub(r"\s", "", value or "")
    if not re.fullmatch(r"\d{10}", digits):
        return False
    total = sum(int(d) * (10 - i) for i, d in enumerate(digits[:9]))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def pupil_number_valid(value: str) -> bool:
    """A unique pupil number: a letter and twelve characters, letters or digits."""
    return bool(re.fullmatch(r"[A-Z][0-9A-Z]{12}", re.sub(r"\s", "", (value or "").upper())))


POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")


def postcode_normalise(value: str) -> str:
    """Upper case with one space before the inward code ('yo1 7hh' → 'YO1 7HH'); '' if not a
    postcode."""
    compact = re.sub(r"\s", "", (value or "").upper())
    if not POSTCODE.match(compact):
        return ""
    return f"{compact[:-3]} {compact[-3:]}"
