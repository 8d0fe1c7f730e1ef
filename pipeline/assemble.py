"""Assemble one year's report set from the executed notebooks (stage `publish`, into a staging folder).

Nothing is executed here: the thematic notebooks were executed once by the `execute` stage; their outputs become
chapters, and the other pages are computed from the processed tables by `pipeline.reportset`.

    <out>/index.html                     synthesis (key figures, roadmaps, alerts, decisions) — the site's home
    <out>/thematiques/<id>.html|.pdf     one report per thématique
    <out>/impact_social.html, qualite_donnees.html, methodologie.html, glossaire.html, feuilles_de_route.html
    <out>/rapport_ctg_<annee>.pdf        the whole report as one A4 PDF (cover, contents, every chapter)
    <out>/copil_<annee>.html|.pdf        the steering committee's one-page support (A4 landscape)
    <out>/copil_<annee>_S1.html|.pdf     … for a semester, when asked (`ctg run --periode S1`)
    <out>/lettre_habitants_<annee>.html  the residents' e-letter
    <out>/manifest.json                  outputs and inputs with their hashes (written last)

Every HTML page carries the navigation menu (relative links); the PDFs do not.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from pipeline import execute, manifest
from pipeline.config import DataLayout
from pipeline.render import Document, get_engine, html_only, notebook_to_markdown, taches
from pipeline.report import fmt
from pipeline.reportset import chapitres, copil, lettre, suivi
from pipeline.reportset.donnees import Bilan, charger
from pipeline.reportset.glossaire import glossaire
from pipeline.reportset.site import Lien, liens, menu, relatif
from pipeline.reportset.synthese import synthese, tableau_de_bord
from pipeline.reportset.titres import Chapitre, en_chapitre, sans_bandeau

BANNER = "Données d'illustration — ces chiffres ne sont pas des données observées"


def report_date(annee: int) -> dt.date:
    """The date printed on a report: SOURCE_DATE_EPOCH when set, else 31 December of the report year.

    Derived from the inputs (never the clock), so two builds of the same inputs give the same bytes.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc).date()
    return dt.date(annee, 12, 31)


def render_cache(interim: Path) -> Path:
    """The render cache of a territory's interim folder (pipeline.render.cache)."""
    return Path(interim) / "cache" / "rendus"


def thematic_markdown(interim: Path, annee: int, thematique: str) -> str:
    return notebook_to_markdown(execute.executed_path(interim, annee, thematique))


class Assembleur:
    """Collects the renders of one report set, then runs them side by side (pandoc and Typst work outside the
    interpreter lock); keeps the list of written files in submission order."""

    def __init__(self, bilan: Bilan, out: Path, periodes: tuple[str, ...], cache: Path | None = None):
        rendu = bilan.params.get("rendu", {})
        self.bilan, self.out = bilan, Path(out)
        self.moteur, self.cache = rendu.get("moteur", "pandoc-typst"), cache
        get_engine(self.moteur)  # an unknown engine name fails here, before anything is computed
        self.formats = tuple(rendu.get("formats", ("html", "pdf")))
        self.date = report_date(bilan.annee)
        self.pages = liens(bilan.annee, {th: bilan.libelle(th) for th in bilan.thematiques}, periodes,
                           pdf="pdf" in self.formats)
        self.travaux: list[tuple[int, Callable, tuple]] = []  # (size, task, its arguments) in submission order

    def document(self, ch: Chapitre, titre: str, **options) -> Document:
        b = self.bilan
        periode = f"{b.premier.annee_debut}-{b.premier.annee_fin}"
        return Document(
            title=titre, subtitle=options.pop("subtitle", f"Convention territoriale globale {periode}"),
            territory=b.territoire, date=options.pop("date", self.date), body=ch.corps,
            running_title=f"CTG {b.territoire} — rapport {b.annee}", banner=BANNER if b.illustratif else "",
            stem=Path(ch.stem).name, **options)

    def rendre(self, doc: Document, chemin: str, *, html: bool = True, pdf: bool = True, suite: str = "") -> None:
        """Queue the HTML (menu above the body, `suite` Markdown below it) and/or the PDF of one document: one
        render for both formats, the menu and `suite` being marked HTML-only."""
        formats = self.formats_de(html, pdf)
        if formats:
            page = self.page(doc, chemin, suite) if "html" in formats else doc
            dossier = self.out / Path(chemin).parent
            self.travaux.append((len(page.body), taches.rendre, (self.moteur, self.cache, page, dossier, formats)))

    def formats_de(self, html: bool, pdf: bool) -> tuple[str, ...]:
        return tuple(f for f, voulu in (("html", html), ("pdf", pdf)) if voulu and f in self.formats)

    def page(self, doc: Document, chemin: str, suite: str = "") -> Document:
        """The document with the site's menu above its body and `suite` below it, both for the HTML only."""
        corps = f"{html_only(menu(self.pages, chemin, self.bilan.annee))}\n{doc.body}\n\n{html_only(suite)}"
        return dataclasses.replace(doc, body=corps)

    def rendre_copil(self, periode: str | None) -> None:
        """Queue the COPIL page: the HTML, and the PDF at the largest font size that keeps it on one page (the
        first size with the HTML, in one render; each smaller size as a PDF alone)."""
        options = {"orientation": "paysage", "couverture": False, "sommaire": False}
        if periode:  # a semester's page is dated at the end of the semester at the latest
            options["date"] = min(self.date, suivi.date_de_fin(self.bilan.annee, periode, self.bilan.params))
        ch = copil.copil(self.bilan, periode)
        premiere, formats = self.document(ch, ch.titre, **options), self.formats_de(True, True)
        if "pdf" not in formats:
            self.rendre(premiere, f"{ch.stem}.html", pdf=False)
            return
        if "html" in formats:
            premiere = self.page(premiere, f"{ch.stem}.html")

        candidats = [(copil.TAILLES[0], premiere)] + [
            (taille, self.document(page, page.titre, **options))
            for taille in copil.TAILLES[1:] for page in [copil.a_la_taille(ch, taille)]]
        self.travaux.append((len(premiere.body), taches.rendre_sur_une_page,
                             (self.moteur, self.cache, candidats, self.out, formats)))

    def lancer(self, pool: Executor) -> list[Future]:
        """Submit the queued renders to `pool` (threads or worker processes: the tasks are functions of plain data,
        pipeline.render.taches), the longest first; one future per render, in submission order."""
        ordre = sorted(range(len(self.travaux)), key=lambda i: -self.travaux[i][0])
        futurs = {i: pool.submit(self.travaux[i][1], *self.travaux[i][2]) for i in ordre}
        return [futurs[i] for i in range(len(self.travaux))]

    def executer(self, workers: int = 0) -> list[Path]:
        """Run the queued renders side by side, the longest first; the first failure is raised."""
        with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
            return [chemin for futur in self.lancer(pool) for chemin in futur.result()]


def plan_du_rapport(pages: list[Lien]) -> str:
    """The home page's list of the other pages (HTML only)."""
    autres = [p for p in pages if p.chemin != "index.html"]
    return "## Le rapport complet\n\n" + "\n".join(f"- [{p.libelle}]({relatif(p.chemin, 'index.html')})"
                                                   for p in autres) + "\n"


@dataclasses.dataclass
class Jeu:
    """One year's report set, planned: its renders (queued in `assembleur`), then `finir()` writes the residents'
    letter and the manifest (last) once every render is done."""

    assembleur: Assembleur
    layout: DataLayout
    params: dict

    def finir(self, rendus: list[Path]) -> list[Path]:
        a = self.assembleur
        chemin_lettre = a.out / f"lettre_habitants_{a.bilan.annee}.html"
        chemin_lettre.write_text(lettre.lettre_html(a.bilan, fmt.date_longue(a.date)), encoding="utf-8")
        return [*rendus, chemin_lettre,
                manifest.write_manifest(a.out, layout=self.layout, params=self.params, annee=a.bilan.annee)]


def plan_report_set(layout: DataLayout, params: dict, annee: int, thematiques: list[str], interim: Path, out: Path,
                    periodes: tuple[str, ...] | list[str] = ()) -> Jeu:
    """Compute the year's pages and queue their renders into `out` (a staging folder); nothing is rendered yet."""
    bilan = charger(layout, params, annee, thematiques)
    a = Assembleur(bilan, out, tuple(periodes), cache=render_cache(interim))

    thematiques_ch = []
    for th in thematiques:
        ch = Chapitre(f"thematiques/{th}", bilan.libelle(th), thematic_markdown(interim, annee, th))
        a.rendre(a.document(ch, f"{ch.titre} — bilan {annee}"), f"{ch.stem}.html")
        thematiques_ch.append(ch)

    tdb = tableau_de_bord(bilan)
    accueil = synthese(tdb)
    a.rendre(a.document(accueil, f"Évaluation de la Convention territoriale globale — {annee}",
                        subtitle=f"{bilan.caf} et {bilan.territoire} · synthèse"),
             "index.html", pdf=False, suite=plan_du_rapport(a.pages))
    annexes = [chapitres.impact_social(bilan, interim), chapitres.qualite_donnees(interim),
               chapitres.methodologie(bilan, interim, tuple(periodes)),
               glossaire(), chapitres.feuilles_de_route(bilan)]
    for ch in annexes:
        a.rendre(a.document(ch, f"{ch.titre} — rapport {annee}"), f"{ch.stem}.html", pdf=False)

    parties = tuple(en_chapitre(dataclasses.replace(ch, corps=sans_bandeau(ch.corps)))
                    for ch in [accueil, *thematiques_ch, *annexes])  # one part per chapter: see Document.parties
    rapport = Chapitre(f"rapport_ctg_{annee}", "Rapport", "\n\n".join(parties))
    a.rendre(a.document(rapport, f"Évaluation de la Convention territoriale globale — {annee}",
                        subtitle=f"{bilan.caf} et {bilan.territoire}", parties=parties), f"{rapport.stem}.pdf",
             html=False)

    for periode in (None, *periodes):
        a.rendre_copil(periode)
    return Jeu(a, layout, params)


def build_report_set(layout: DataLayout, params: dict, annee: int, thematiques: list[str], interim: Path, out: Path,
                     periodes: tuple[str, ...] | list[str] = ()) -> list[Path]:
    """Render the year's documents into `out` (a staging folder) and write its manifest (last)."""
    jeu = plan_report_set(layout, params, annee, thematiques, interim, out, periodes)
    return jeu.finir(jeu.assembleur.executer(int(params.get("execution", {}).get("jobs", 0))))
