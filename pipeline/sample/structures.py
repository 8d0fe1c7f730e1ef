"""The structures of the illustrative dataset.

Facts taken from the convention (seed): 12 multi-accueils in PSU management (Montlouis, Terre Câline, Nocaze,
Jardin Public, Bagatelle, Mini-Pouss and the Maison de l'enfance of Cléon-d'Andran are named; the others are named
after their commune); Cléon-d'Andran +5 places; a 44-place crèche in north Montélimar regrouping Bagatelle and
Mini-Pouss; a 12-place micro-crèche in the centre-ville; one Relais petite enfance and one LAEP; the Kid'O
accueils de loisirs; a ludothèque to create and the ludobus; centres sociaux Colucci (Quartier Ouest, Pracomtal)
and Nocaze; the EVS Eustache (Centre ancien) approved on 1 April 2021; Points numériques Caf at Colucci and
Eustache; the Caf antenna at Nocaze; a Conseil des jeunes citoyens from September 2022; a family-mediation
permanence in Montélimar. Dates, capacities and the other structures are illustrative.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

MONTELIMAR = "26198"
QPV_OUEST = "Quartier Ouest (Pracomtal)"
QPV_NOCAZE = "Nocaze"
QPV_CENTRE = "Centre ancien"

# Regrouping of Bagatelle and Mini-Pouss in the new 44-place crèche (illustrative dates)
NEW_CRECHE_OPENING = dt.date(2024, 9, 2)
REGROUPED_CLOSING = dt.date(2024, 8, 30)
MICRO_CRECHE_OPENING = dt.date(2023, 9, 4)
CLEON_EXTENSION_YEAR = 2023


@dataclass(frozen=True)
class Structure:
    structure_id: str
    nom: str
    type: str
    code_insee: str
    qpv: str = ""
    capacite: dict[int, float] | float | None = None   # by year when it changes
    ouverture: dt.date | None = None
    fermeture: dt.date | None = None
    extra: dict = field(default_factory=dict)

    def capacity(self, year: int) -> float | None:
        if isinstance(self.capacite, dict):
            changes = sorted(self.capacite.items())
            return next((v for y, v in reversed(changes) if year >= y), changes[0][1])
        return self.capacite

    def open_fraction(self, year: int) -> float:
        """Share of the year during which the structure was open (0 when closed all year)."""
        start = max(self.ouverture or dt.date(year, 1, 1), dt.date(year, 1, 1))
        end = min(self.fermeture or dt.date(year, 12, 31), dt.date(year, 12, 31))
        return max(0.0, ((end - start).days + 1) / 365.0)


def _eaje(sid: str, nom: str, code: str, places, qpv: str = "", **kw) -> Structure:
    return Structure(sid, nom, "eaje_psu", code, qpv, places, **kw)


STRUCTURES: list[Structure] = [
    # petite enfance ---------------------------------------------------------------------------------------
    _eaje("EAJE_MONTLOUIS", "Multi-accueil Montlouis", MONTELIMAR, 40.0),
    _eaje("EAJE_TERRE_CALINE", "Multi-accueil Terre Câline", MONTELIMAR, 30.0),
    _eaje("EAJE_NOCAZE", "Multi-accueil Nocaze", MONTELIMAR, 25.0, QPV_NOCAZE),
    _eaje("EAJE_JARDIN_PUBLIC", "Multi-accueil Jardin Public", MONTELIMAR, 30.0),
    _eaje("EAJE_BAGATELLE", "Multi-accueil Bagatelle", MONTELIMAR, 20.0, fermeture=REGROUPED_CLOSING),
    _eaje("EAJE_MINI_POUSS", "Multi-accueil Mini-Pouss", MONTELIMAR, 18.0, fermeture=REGROUPED_CLOSING),
    _eaje("EAJE_CLEON", "Crèche de la Maison de l'enfance de Cléon-d'Andran", "26095",
          {2021: 20.0, CLEON_EXTENSION_YEAR: 25.0}),
    _eaje("EAJE_SAULCE", "Multi-accueil de Saulce-sur-Rhône", "26337", 20.0),
    _eaje("EAJE_CHATEAUNEUF", "Multi-accueil de Châteauneuf-du-Rhône", "26085", 20.0),
    _eaje("EAJE_SAUZET", "Multi-accueil de Sauzet", "26338", 15.0),
    _eaje("EAJE_MARSANNE", "Multi-accueil de Marsanne", "26176", 15.0),
    _eaje("EAJE_MONTBOUCHER", "Multi-accueil de Montboucher-sur-Jabron", "26191", 18.0),
    _eaje("EAJE_NORD_MONTELIMAR", "Crèche du nord de Montélimar", MONTELIMAR, 44.0, ouverture=NEW_CRECHE_OPENING),
    Structure("MC_CENTRE_VILLE", "Micro-crèche du centre-ville de Montélimar", "micro_creche", MONTELIMAR, "", 12.0,
              ouverture=MICRO_CRECHE_OPENING),
    Structure("CF_AGGLO", "Crèche familiale de Montélimar Agglomération", "creche_familiale", MONTELIMAR, "", 30.0),
    Structure("RPE_AGGLO", "Relais petite enfance de Montélimar Agglomération", "rpe", MONTELIMAR),
    # parentalité ------------------------------------------------------------------------------------------
    Structure("LAEP_AGGLO", "Lieu d'accueil enfants-parents de Montélimar Agglomération", "laep", MONTELIMAR),
    Structure("MEDIATION_FAMILIALE", "Permanence de médiation familiale de Montélimar", "mediation_familiale",
              MONTELIMAR, ouverture=dt.date(2023, 1, 9)),
    Structure("CAISSE_ECOLES", "Caisse des écoles de Montélimar (CLAS)", "porteur_clas", MONTELIMAR),
    # enfance ----------------------------------------------------------------------------------------------
    Structure("KIDO_MONTELIMAR", "Kid'O Montélimar", "alsh_extrascolaire", MONTELIMAR, "", {2021: 120.0, 2023: 140.0}),
    Structure("KIDO_VERT", "Kid'O'Vert", "alsh_extrascolaire", MONTELIMAR, "", {2021: 80.0, 2024: 96.0}),
    Structure("KIDO_CLEON", "Kid'O Cléon", "alsh_extrascolaire", "26095", "", {2021: 40.0, 2024: 50.0}),
    Structure("ALSH_SAULCE", "Accueil de loisirs associatif de Saulce-sur-Rhône", "alsh_extrascolaire", "26337", "", 40.0),
    Structure("LUDOBUS", "Ludobus de Montélimar Agglomération", "ludotheque", MONTELIMAR),
    Structure("LUDOTHEQUE", "Ludothèque de Montélimar Agglomération", "ludotheque", MONTELIMAR,
              ouverture=dt.date(2023, 3, 1)),
    # jeunesse ---------------------------------------------------------------------------------------------
    Structure("KIDO_JEUNS", "Kid'O Jeuns'", "accueil_jeunes", MONTELIMAR, "", 48.0),
    Structure("ADOS_CLEON", "Accueil ados de Cléon-d'Andran", "accueil_jeunes", "26095", "", 24.0),
    Structure("ADOS_SAULCE", "Accueil ados de Saulce-sur-Rhône", "accueil_jeunes", "26337", "", 24.0),
    Structure("PIJ_MONTELIMAR", "Information jeunesse de Montélimar", "point_information_jeunesse", MONTELIMAR),
    Structure("CJC_MONTELIMAR", "Conseil des jeunes citoyens de Montélimar", "instance_jeunes", MONTELIMAR,
              ouverture=dt.date(2022, 9, 1)),
    # animation de la vie sociale, accès aux droits ---------------------------------------------------------
    Structure("CS_COLUCCI", "Centre social Colucci", "centre_social", MONTELIMAR, QPV_OUEST),
    Structure("CS_NOCAZE", "Centre social Nocaze", "centre_social", MONTELIMAR, QPV_NOCAZE),
    Structure("EVS_EUSTACHE", "Espace de vie sociale Eustache", "evs", MONTELIMAR, QPV_CENTRE,
              ouverture=dt.date(2021, 4, 1)),
    Structure("PN_COLUCCI", "Point numérique Caf du centre social Colucci", "point_numerique_caf", MONTELIMAR,
              QPV_OUEST, ouverture=dt.date(2022, 3, 1)),
    Structure("PN_EUSTACHE", "Point numérique Caf de l'EVS Eustache", "point_numerique_caf", MONTELIMAR, QPV_CENTRE,
              ouverture=dt.date(2022, 6, 1)),
    Structure("ANTENNE_CAF_NOCAZE", "Antenne Caf de Nocaze", "antenne_caf", MONTELIMAR, QPV_NOCAZE),
]


def periscolaire_sites(communes: list[tuple[str, str, float]]) -> list[Structure]:
    """One accueil périscolaire per commune of 400 inhabitants or more (three sites in Montélimar)."""
    sites = []
    for code, name, population in communes:
        if code == MONTELIMAR:
            for suffix, label in (("NORD", "nord"), ("SUD", "sud"), ("CENTRE", "centre")):
                sites.append(Structure(f"PERI_{code}_{suffix}", f"Accueil périscolaire de Montélimar {label}",
                                       "alsh_periscolaire", code, extra={"weight": population / 3}))
        elif population >= 400:
            sites.append(Structure(f"PERI_{code}", f"Accueil périscolaire de {name}", "alsh_periscolaire", code,
                                   extra={"weight": population}))
    return sites


def open_in(structure: Structure, year: int) -> bool:
    return structure.open_fraction(year) > 0
