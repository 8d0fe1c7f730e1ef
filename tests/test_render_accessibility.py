"""Accessibility of the HTML report, checked with axe-core in headless Chromium (where both are available)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from pipeline.render import Document, get_engine, notebook_to_markdown

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
playwright = pytest.importorskip("playwright.sync_api", reason="playwright absent (groupe dev)")
axe_module = pytest.importorskip("axe_playwright_python.sync_playwright", reason="axe-playwright-python absent")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium absent (paquet Debian chromium)"),
]
FIXTURE = Path(__file__).parent / "fixtures" / "render" / "executed.ipynb"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"]


def test_html_report_has_no_axe_violation(tmp_path):
    markdown = notebook_to_markdown(FIXTURE)
    body = markdown[:markdown.index("```{=html}")]  # the DataFrame HTML (empty index header) is not ours
    body += "\n\n# Suite\n\n## Détail\n\nVoir [le site de la Caf](https://www.caf.fr).\n"
    doc = Document(title="Petite enfance", subtitle="Rapport 2024", territory="Montélimar Agglomération",
                   date=dt.date(2026, 11, 28), body=body, banner="Données d'illustration")
    (html,) = get_engine().render(doc, tmp_path, formats=("html",))
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            for width in (1200, 390):  # desktop and phone
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.goto(html.as_uri())
                violations = axe_module.Axe().run(page).response["violations"]
                assert violations == [], [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations]
        finally:
            browser.close()
