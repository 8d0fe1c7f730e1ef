"""The published HTML pages as a reader opens them: headless Chromium (Debian's), driven by Playwright.

Every page of the latest year's set is opened from disk: no console error, no failed request, no request that
leaves the page (anything but file: and data:), no broken image. axe-core finds no serious or critical violation
on the home page, a thematic page, the COPIL page and the residents' letter. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    print("test_browser : Chromium absent (paquet Debian chromium) — tests du navigateur ignorés.")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium absent (paquet Debian chromium)"),
]
playwright = pytest.importorskip("playwright.sync_api", reason="playwright absent (groupe dev)")
axe_module = pytest.importorskip("axe_playwright_python.sync_playwright", reason="axe-playwright-python absent")

TERRITOIRE = "200040459"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"]
BUREAU, TELEPHONE = 1280, 390


@pytest.fixture(scope="module")
def dossier(built_reports) -> Path:
    annees = sorted(int(p.name) for p in (built_reports / TERRITOIRE).iterdir() if p.name.isdigit())
    return built_reports / TERRITOIRE / str(annees[-1])


@pytest.fixture(scope="module")
def navigateur():
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield browser
        browser.close()


def ouvrir(navigateur, chemin: Path, largeur: int):
    """Open a page; returns (page, problems seen while loading: console errors, failed or outside requests)."""
    page = navigateur.new_page(viewport={"width": largeur, "height": 900})
    problemes: list[str] = []
    page.on("console", lambda m: problemes.append(f"console : {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problemes.append(f"erreur : {e}"))
    page.on("requestfailed", lambda r: problemes.append(f"requête échouée : {r.url}"))
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:")) else problemes.append(
        f"requête sortante : {r.url}"))
    page.goto(chemin.as_uri(), wait_until="load")
    return page, problemes


def images_cassees(page) -> list[str]:
    return page.evaluate("""() => [...document.images]
        .filter(img => !img.complete || img.naturalWidth === 0).map(img => img.alt || img.src.slice(0, 60))""")


def nom_capture(dossier: Path, chemin: Path, largeur: int) -> str:
    return f"navigateur_{str(chemin.relative_to(dossier)).replace('/', '_').removesuffix('.html')}_{largeur}.png"


def test_chaque_page_s_ouvre_sans_erreur_ni_requete_sortante(navigateur, dossier, artefacts):
    pages = sorted(dossier.rglob("*.html"))
    assert len(pages) >= 13
    for chemin in pages:
        page, problemes = ouvrir(navigateur, chemin, BUREAU)
        assert problemes == [], f"{chemin.name} : {problemes}"
        assert images_cassees(page) == [], chemin.name
        page.screenshot(path=str(artefacts / nom_capture(dossier, chemin, BUREAU)))
        page.close()


def test_pages_principales_sur_un_telephone(navigateur, dossier, artefacts):
    """390 px wide: the page does not scroll sideways (tables scroll inside their own box); the letter is one
    column of at most 600 px."""
    annee = dossier.name
    for nom in ("index.html", f"copil_{annee}.html", f"lettre_habitants_{annee}.html", "thematiques/enfance.html"):
        page, problemes = ouvrir(navigateur, dossier / nom, TELEPHONE)
        assert problemes == []
        largeur = page.evaluate("() => document.documentElement.scrollWidth")
        assert largeur <= TELEPHONE + 1, f"{nom} déborde : {largeur} px"
        page.screenshot(path=str(artefacts / nom_capture(dossier, dossier / nom, TELEPHONE)), full_page=True)
        page.close()
    page, _ = ouvrir(navigateur, dossier / f"lettre_habitants_{annee}.html", BUREAU)
    assert page.evaluate("() => document.querySelector('main').getBoundingClientRect().width") <= 600
    page.close()


@pytest.mark.parametrize("nom", ["index.html", "thematiques/petite_enfance.html", "copil_{annee}.html",
                                 "lettre_habitants_{annee}.html"])
def test_accessibilite_axe(navigateur, dossier, nom):
    page, _ = ouvrir(navigateur, dossier / nom.format(annee=dossier.name), BUREAU)
    violations = axe_module.Axe().run(page).response["violations"]
    graves = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in violations
              if v["impact"] in ("serious", "critical")]
    page.close()
    assert graves == []
