"""Blocking keys for finding near matches in the people register without decrypting everyone.

Exact search uses the blind indexes of normalised name + date of birth and of identifiers
(core.encryption). Near matches — a typo in a surname, day and month of birth swapped — cannot be
found by an exact hash, so each person also gets a few coarser keyed hashes ("blocks"): their
date of birth alone, a phonetic code of each part of their surname with their birth year, and the
phonetic codes of their first and last names. Someone looking for near matches reads the people
who share a block (a handful among thousands) and compares only those after decrypting them.

The hashes are keyed like every blind index, so they reveal nothing without the key; what they do
reveal to someone holding the database alone is that two people share a block, which is why they
are coarse keys of single attributes and never of a whole identity."""
from __future__ import annotations

import datetime as dt

from saferhub.core.encryption import blind_index, normalise_name

# Soundex digit classes (Robert Russell's 1918 code, as the US census used it).
_SOUNDEX = {**dict.fromkeys("bfpv", "1"), **dict.fromkeys("cgjkqsxz", "2"), **dict.fromkeys("dt", "3"),
            "l": "4", **dict.fromkeys("mn", "5"), "r": "6"}


def soundex(name: str) -> str:
    """The four-character Soundex code of a name ('Robert' and 'Rupert' → R163); '' for no letters."""
    letters = [c for c in normalise_name(name) if "a" <= c <= "z"]
    if not letters:
        return ""
    code, previous = letters[0].upper(), _SOUNDEX.get(letters[0], "")
    for letter in letters[1:]:
        digit = _SOUNDEX.get(letter, "")
        if digit and digit != previous:
            code += digit
            if len(code) == 4:
                break
        # 'h' and 'w' do not separate two letters of the same class; vowels do.
        if letter not in "hw":
            previous = digit
    return (code + "000")[:4]


def surname_sounds(last_name: str) -> set[str]:
    """The Soundex codes of the whole surname and of each of its parts, so 'Oneill Smith' shares a
    block with 'Smith'."""
    parts = normalise_name(last_name).split()
    codes = {soundex(part) for part in parts} | {soundex("".join(parts))}
    return {code for code in codes if code}


def first_name_sound(first_name: str) -> str:
    parts = normalise_name(first_name).split()
    return soundex(parts[0]) if parts else ""


def dob_key(date_of_birth: dt.date) -> str:
    return blind_index("block-dob", date_of_birth.isoformat())


def surname_sound_year_key(sound: str, year: int) -> str:
    return blind_index("block-surname-sound-year", f"{sound}|{year}")


def name_sound_key(first_sound: str, last_sound: str) -> str:
    # Sorted, as the exact index is, so a first and last name entered the wrong way round still meet.
    pair = sorted([first_sound, last_sound])
    return blind_index("block-name-sound", f"{pair[0]}|{pair[1]}")


def blocking_keys(first_name: str, last_name: str, date_of_birth: dt.date | None) -> list[tuple[str, str]]:
    """(index kind, digest) pairs for one name of a person; kinds are people.models.IndexKind values."""
    keys = []
    if date_of_birth:
        keys.append(("dob", dob_key(date_of_birth)))
        keys += [("surname_sound_year", surname_sound_year_key(sound, date_of_birth.year)) for sound in sorted(surname_sounds(last_name))]
    first, last = first_name_sound(first_name), soundex("".join(normalise_name(last_name).split()))
    if first and last:
        keys.append(("name_sound", name_sound_key(first, last)))
    return keys
