"""French number, money and date formats, all through Babel (locale fr_FR).

Every function returns the marker for "not available" when given None or NaN, so callers can format a value
without testing it first. Secret values are never passed here: callers print `SECRET` instead.
"""

from __future__ import annotations

import datetime as dt
import math

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent

LOCALE = Locale.parse("fr_FR")
SECRET = "s"
NON_DISPONIBLE = "n.d."
_SIGNE = "+{0};-{0}"  # Babel pattern: explicit sign for positive and negative values


def _manque(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _motif(decimales: int) -> str:
    """Babel number pattern with grouping and a fixed number of decimals."""
    return "#,##0" + ("." + "0" * decimales if decimales else "")


def nombre(x, decimales: int = 0) -> str:
    """1234.5 -> '1 234,5' (narrow no-break space as thousands separator, as Babel gives)."""
    if _manque(x):
        return NON_DISPONIBLE
    return format_decimal(x, format=_motif(decimales), locale=LOCALE)


def pourcentage(x, decimales: int = 1) -> str:
    """A value already in percent: 12.3 -> '12,3 %' (no-break space before %, French typography)."""
    if _manque(x):
        return NON_DISPONIBLE
    suffixe = LOCALE.percent_formats[None].suffix[0]  # '\xa0%' for fr
    return format_percent(x / 100, format=_motif(decimales) + suffixe, locale=LOCALE)


def euros(x, decimales: int = 0) -> str:
    """1234 -> '1 234 €'."""
    if _manque(x):
        return NON_DISPONIBLE
    return format_currency(x, "EUR", format=_motif(decimales) + "\xa0¤", currency_digits=False, locale=LOCALE)


def date_longue(d: dt.date) -> str:
    """date(2021, 4, 1) -> '1er avril 2021' (French ordinal for the first day of the month)."""
    if d is None:
        return NON_DISPONIBLE
    motif = "'1er' MMMM y" if d.day == 1 else "d MMMM y"
    return format_date(d, format=motif, locale=LOCALE)


def _signe(x: float, decimales: int) -> str:
    """Signed number; a change that rounds to zero is printed without sign ('0,0')."""
    if round(x, decimales) == 0:
        return nombre(0, decimales)
    return format_decimal(x, format=_SIGNE.format(_motif(decimales)), locale=LOCALE)


def evolution_points(d, decimales: int = 1) -> str:
    """Difference between two rates: 3.14 -> '+3,1 points', 1.5 -> '+1,5 point' (French plural rule)."""
    if _manque(d):
        return NON_DISPONIBLE
    mot = "point" if LOCALE.plural_form(abs(round(d, decimales))) == "one" else "points"
    return f"{_signe(d, decimales)}\xa0{mot}"


def evolution_pct(p, decimales: int = 1) -> str:
    """Relative change already in percent: 3.2 -> '+3,2 %'."""
    if _manque(p):
        return NON_DISPONIBLE
    suffixe = LOCALE.percent_formats[None].suffix[0]
    return _signe(p, decimales) + suffixe


def est_taux(unite: str | None) -> bool:
    """True for units that are rates (%, 'pour 100', 'pour 1 000'): their changes are told in points."""
    u = (unite or "").lower()
    return "%" in u or "pour 1" in u


def avec_unite(x, unite: str | None, decimales: int = 0) -> str:
    """Value followed by its unit: '12,3 %', '1 234 €', '62,4 places pour 100 enfants', '1 réunion'."""
    if _manque(x):
        return NON_DISPONIBLE
    u = (unite or "").strip()
    if u == "%":
        return pourcentage(x, decimales)
    if u in ("€", "euros"):
        return euros(x, decimales)
    if LOCALE.plural_form(abs(round(x, decimales))) == "one":
        u = singulier(u)
    return f"{nombre(x, decimales)}\xa0{u}" if u else nombre(x, decimales)


_INVARIABLES = {"rendez-vous", "fois", "mois", "temps", "cours", "ETP"}


def singulier(unite: str) -> str:
    """French singular of a unit's first word, for values below 2: 'réunions' -> 'réunion', 'lieux' -> 'lieu',
    'places pour 100 enfants' -> 'place pour 100 enfants'. Invariable words are left as they are."""
    mot, _, reste = unite.partition(" ")
    if mot in _INVARIABLES or mot.isupper():
        return unite
    if mot.endswith("aux"):
        mot = mot[:-3] + "al"
    elif mot.endswith(("s", "x")):
        mot = mot[:-1]
    return f"{mot} {reste}".strip()


def compte(n: int, singulier: str, pluriel: str) -> str:
    """'1 commune', '3 communes', '0 commune' (French plural rule from Babel)."""
    return f"{nombre(n)}\xa0{singulier if LOCALE.plural_form(abs(n)) == 'one' else pluriel}"
