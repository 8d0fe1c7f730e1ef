"""The PDFs as a reader sees them: pages rendered to PNG (pdftoppm) and text extracted (pdftotext), poppler-utils.

The COPIL support is one A4 landscape page; the annual report has a cover, a table of contents, numbered pages,
every chapter in order; key figures computed from the sample's processed table appear in both.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from pipeline.config import ROOT, load_params
from pipeline.indicators import load_catalogue
from pipeline.report import fmt

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not (shutil.which("pdftoppm") and shutil.which("pdftotext") and shutil.which("pdfinfo")),
                       reason="poppler-utils absent (pdftoppm, pdftotext, pdfinfo)"),
]
TERRITOIRE = "200040459"
A4 = (595.28, 841.89)
CHAPITRES = ["Synthèse", "Accès aux droits et inclusion numérique", "Petite enfance", "Enfance", "Jeunesse",
             "Accompagnement à la parentalité", "Animation de la vie sociale", "Impact social", "Qualité des données",
             "Méthodologie et sources", "Glossaire", "Annexe : feuilles de route"]


@pytest.fixture(scope="module")
def dossier(built_reports) -> Path:
    annees = sorted(int(p.name) for p in (built_reports / TERRITOIRE).iterdir() if p.name.isdigit())
    return built_reports / TERRITOIRE / str(annees[-1])


def info(pdf: Path) -> dict[str, str]:
    sortie = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return dict(re.findall(r"^([^:]+):\s*(.*)$", sortie, flags=re.M))


def taille_page(pdf: Path) -> tuple[float, float]:
    largeur, hauteur = re.match(r"([\d.]+) x ([\d.]+)", info(pdf)["Page size"]).groups()
    return float(largeur), float(hauteur)


def texte(pdf: Path, premiere: int | None = None, derniere: int | None = None) -> str:
    pages = [*(["-f", str(premiere)] if premiere else []), *(["-l", str(derniere)] if derniere else [])]
    brut = subprocess.run(["pdftotext", "-layout", *pages, str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    return plat(brut)


def debuts_de_page(pdf: Path) -> list[str]:
    """For each page, its first two lines of text below the running header."""
    brut = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    debuts = []
    for page in brut.split("\f"):
        lignes = [plat(ligne).strip() for ligne in page.splitlines() if ligne.strip()]
        corps = [ligne for ligne in lignes if not ligne.startswith(("CTG ", "Données d"))]
        debuts.append(" ".join(corps[:2]))
    return debuts


def plat(s: str) -> str:
    """Every kind of space as one plain space (Babel's narrow no-break space in numbers, no-break spaces)."""
    return re.sub(r"\s+", " ", s.replace("\u202f", " ").replace("\xa0", " "))


def png(pdf: Path, dest: Path, page: int = 1, resolution: int = 60) -> Image.Image:
    racine = dest.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", str(resolution), "-f", str(page), "-l", str(page), "-singlefile",
                    str(pdf), str(racine)], check=True, capture_output=True)
    return Image.open(racine.with_suffix(".png"))


def encre(image: Image.Image) -> float:
    """Share of pixels that are not white: a blank page is near 0."""
    gris = image.convert("L")
    return sum(gris.histogram()[:200]) / (gris.width * gris.height)


def chiffres_cles(sample_data: Path, annee: int) -> dict[str, str]:
    """{indicator: formatted value} for the catalogue's main indicators of the thématiques, at the territory level:
    latest published value up to `annee`, formatted like the reports (pipeline.report.fmt: one decimal for rates and
    non-integer series)."""
    params = load_params()
    catalogue = load_catalogue(ROOT / params["catalogue"])
    table = pd.read_parquet(sample_data / "processed" / TERRITOIRE / "indicateurs.parquet")
    table = table[(table["niveau"] == "epci") & (table["annee"] <= annee)]
    attendus = {}
    for ind, entree in catalogue.items():
        if not entree.get("principal") or entree["thematique"] not in params["thematiques"]:
            continue
        serie = table[(table["indicateur"] == ind) & ~table["secret"]].dropna(subset=["valeur"]).sort_values("annee")
        if serie.empty:
            continue
        decimales = 1 if fmt.est_taux(entree["unite"]) or (serie["valeur"] != serie["valeur"].round()).any() else 0
        attendus[ind] = plat(fmt.nombre(serie["valeur"].iloc[-1], decimales))
    return attendus


def test_copil_une_page_a4_paysage(dossier, artefacts):
    pdf = dossier / f"copil_{dossier.name}.pdf"
    assert info(pdf)["Pages"] == "1"
    largeur, hauteur = taille_page(pdf)
    assert (largeur, hauteur) == pytest.approx(A4[::-1], abs=1)
    image = png(pdf, artefacts / f"copil_{dossier.name}.png", resolution=80)
    assert image.width > image.height and encre(image) > 0.01


def test_copil_montre_les_chiffres_cles_feux_et_alertes(dossier, sample_data):
    annee = int(dossier.name)
    contenu = texte(dossier / f"copil_{annee}.pdf")
    attendus = chiffres_cles(sample_data, annee)
    assert len(attendus) >= 6
    manquants = {ind: v for ind, v in attendus.items() if v not in contenu}
    assert manquants == {}, contenu[:2000]
    assert re.search(r"En bonne voie|À surveiller|Hors trajectoire", contenu)
    assert "Les trois alertes principales" in contenu or "Alertes principales" in contenu
    assert "Feuille de route" in contenu and "réalisées" in contenu


def test_rapport_annuel_couverture_sommaire_pagination_chapitres(dossier, sample_data, artefacts):
    annee = int(dossier.name)
    pdf = dossier / f"rapport_ctg_{annee}.pdf"
    pages = int(info(pdf)["Pages"])
    assert pages >= 30
    assert taille_page(pdf) == pytest.approx(A4, abs=1)
    couverture = texte(pdf, 1, 1)
    assert f"Évaluation de la Convention territoriale globale — {annee}" in couverture
    assert "Page 1" not in couverture  # no header or footer on the cover
    assert "Sommaire" in texte(pdf, 2, 2)
    assert f"Page 3 / {pages}" in texte(pdf, 3, 3)
    debuts = debuts_de_page(pdf)
    ouvertures = [next((i for i, d in enumerate(debuts, 1) if d.startswith(c)), None) for c in CHAPITRES]
    assert None not in ouvertures, dict(zip(CHAPITRES, ouvertures))  # each chapter opens a page
    assert ouvertures == sorted(ouvertures) and ouvertures[0] > 2, dict(zip(CHAPITRES, ouvertures))
    contenu = texte(pdf)
    for numerote in ("Tableau 1 :", "Tableau 2 :", "Figure 1 :", "Figure 2 :"):
        assert numerote in contenu
    assert f"CTG Montélimar Agglomération — rapport {annee}" in texte(pdf, 5, 5)  # running title
    manquants = {ind: v for ind, v in chiffres_cles(sample_data, annee).items() if v not in contenu}
    assert manquants == {}
    assert encre(png(pdf, artefacts / f"rapport_{annee}_p1.png")) > 0.005


def test_rapports_thematiques_a4(dossier):
    for pdf in sorted((dossier / "thematiques").glob("*.pdf")):
        assert taille_page(pdf) == pytest.approx(A4, abs=1), pdf.name
        assert int(info(pdf)["Pages"]) >= 3
