"""Personal identifiers in running text: what each looks like, how it is checked, and how it is masked.

Each detector is a regular expression for the candidates plus, where the format has one, a
check that removes look-alikes: Swedish personnummer and samordningsnummer must have a
valid date (a samordningsnummer's day is the birth day + 60) and a valid Luhn check digit,
with or without the century and the separator (``-`` or ``+`` for people over 100);
telephone numbers need a plausible number of digits; IP addresses must parse; a date counts
as a date of birth only near words that say so ("född", "born", "date of birth", "DOB").

Names of people are not detected here: nothing tells a name from a word without a list of
names (see :class:`study.core.personal_data.Scanner`).

Pure Python, no third-party imports: the check runs before anything heavy is loaded.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from dataclasses import dataclass
from typing import Callable, Iterator

PERSONNUMMER = "personnummer"
SAMORDNINGSNUMMER = "samordningsnummer"
EMAIL = "email"
PHONE = "phone"
DATE_OF_BIRTH = "date_of_birth"
IP_ADDRESS = "ip_address"
NAME = "name"
BUILT_IN_KINDS = (PERSONNUMMER, SAMORDNINGSNUMMER, EMAIL, PHONE, DATE_OF_BIRTH, IP_ADDRESS)


@dataclass(frozen=True)
class Match:
    """One identifier found in a text: its kind, where it starts and ends, and the matched text."""

    kind: str
    start: int
    end: int
    value: str


# --- personnummer and samordningsnummer ---------------------------------------------------------

# [century] YYMMDD [-+] NNNC, not inside a longer run of digits.
_PNR = re.compile(r"(?<![\d+])(?P<century>1[89]|20)?(?P<date>\d{6})(?P<sep>[-+]?)(?P<serial>\d{3})(?P<check>\d)(?!\d)")


def luhn_digit(digits: str) -> int:
    """The Luhn check digit of ``digits`` (the nine digits YYMMDDNNN of a personnummer)."""
    total = 0
    for i, ch in enumerate(digits):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return (10 - total % 10) % 10


def identity_number_kind(text: str) -> str | None:
    """``personnummer``, ``samordningsnummer`` or None for one number in any accepted format."""
    m = _PNR.fullmatch(text.strip())
    return _kind_of(m) if m else None


def _kind_of(m: re.Match[str]) -> str | None:
    date, serial, check = m["date"], m["serial"], m["check"]
    if luhn_digit(date + serial) != int(check):
        return None
    yy, mm, dd = int(date[:2]), int(date[2:4]), int(date[4:])
    kind = PERSONNUMMER
    if dd > 60:
        kind, dd = SAMORDNINGSNUMMER, dd - 60
    year = int(m["century"]) * 100 + yy if m["century"] else 2000  # 2000 is a leap year: 29 February passes
    try:
        dt.date(year, mm, dd)
    except ValueError:
        return None
    return kind


def _identity_numbers(text: str) -> Iterator[Match]:
    for m in _PNR.finditer(text):
        kind = _kind_of(m)
        if kind:
            yield Match(kind, m.start(), m.end(), m.group())


# --- e-mail, telephone, IP address ---------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?!\w)")

# International: +CC or 00CC, then groups of digits (one may be in brackets) with spaces, dashes, dots or "(0)".
_PHONE_INTL = re.compile(r"(?<![\w+])(?:\+|00)[1-9]\d{0,2}(?:[ .-]?\(0\))?(?:[ .-]?(?:\(\d{1,4}\)|\d{1,4})){2,6}(?!\d)")
# Swedish national: 0 + area code (1-3 digits), a separator or none, then groups of digits: 08-123 456 78,
# 070-123 45 67, 031-12 34 56, 0701234567.
_PHONE_SE = re.compile(r"(?<![\w.,+-])0[1-9]\d{0,2}(?:[ /-]|\s?-\s?)?\d{2,3}(?:[ -]?\d{2,3}){1,3}(?![\d.,]\d|\d)")


def _phones(text: str) -> Iterator[Match]:
    for pattern, least, most in ((_PHONE_INTL, 8, 15), (_PHONE_SE, 8, 10)):
        for m in pattern.finditer(text):
            digits = sum(ch.isdigit() for ch in m.group())
            if least <= digits <= most:
                yield Match(PHONE, m.start(), m.end(), m.group())


_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.]|\.\d)")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")


def _ip_addresses(text: str) -> Iterator[Match]:
    for pattern in (_IPV4, _IPV6):
        for m in pattern.finditer(text):
            value = m.group()
            if pattern is _IPV6 and not any(c.isalpha() for c in value) and "::" not in value:
                continue  # 10:30:45 is a time of day, not an address
            try:
                ipaddress.ip_address(value)
            except ValueError:
                continue
            yield Match(IP_ADDRESS, m.start(), m.end(), value)


# --- dates of birth ------------------------------------------------------------------------------

_MONTHS = (
    "jan(?:uary|uari)?|feb(?:ruary|ruari)?|mar(?:ch|s)?|apr(?:il)?|maj|may|jun(?:e|i)?|jul(?:y|i)?|aug(?:ust|usti)?"
    "|sep(?:t|tember)?|okt(?:ober)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_DATE = (
    r"(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})\.?,?\s+\d{{4}}|(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    r"|(?:19|20)\d{6})"
)
_BIRTH_WORDS = (
    r"f[öo]dd|f[öo]delsedatum|f[öo]delsedag|f[öo]delse|born(?:\s+on)?|date\s+of\s+birth|birth\s*date|birthdate"
    r"|d\.?o\.?b\.?"
)
# A birth word, then at most 25 characters that are not a sentence end, then a date.
_DOB = re.compile(rf"\b(?:{_BIRTH_WORDS})(?![\w])[^.!?\n]{{0,25}}?(?<![\w])(?P<date>{_DATE})(?![\w])", re.I)


def _dates_of_birth(text: str) -> Iterator[Match]:
    for m in _DOB.finditer(text):
        yield Match(DATE_OF_BIRTH, m.start("date"), m.end("date"), m["date"])


DETECTORS: dict[str, Callable[[str], Iterator[Match]]] = {
    "identity numbers": _identity_numbers,
    "e-mail addresses": lambda text: (Match(EMAIL, m.start(), m.end(), m.group()) for m in _EMAIL.finditer(text)),
    "telephone numbers": _phones,
    "IP addresses": _ip_addresses,
    "dates of birth": _dates_of_birth,
}


def find_identifiers(text: str) -> list[Match]:
    """Every built-in identifier in ``text``, in order; where two overlap, the first-listed detector's wins.

    A valid personnummer written without separator is also ten digits that could be a telephone
    number: it is reported once, as the more specific kind.
    """
    found: list[Match] = []
    for detect in DETECTORS.values():
        for match in detect(text):
            if not any(match.start < m.end and m.start < match.end for m in found):
                found.append(match)
    return sorted(found, key=lambda m: m.start)


def mask(value: str) -> str:
    """``value`` with every letter and digit but the first replaced by ``*``; separators kept.

    Enough to see what kind of thing sits at a line (``1*******-****``, ``a***.*******@******.**``),
    never enough to read it back.
    """
    out, kept = [], False
    for ch in value:
        if ch.isalnum():
            out.append("*" if kept else ch)
            kept = True
        else:
            out.append(ch)
    return "".join(out)
