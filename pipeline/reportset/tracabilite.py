"""Provenance of every figure and data table of a year's report set, listed in full in the methodology chapter.

Each caption ends with its sources, their millésimes and the short fingerprint of the data rows it was computed
from (`pipeline.report.sortie.tracer`); the same call records a trace (title, sources, full sha256). Traces come:

- from the executed notebooks (thématiques, impact_social): in each output's metadata, `{"ctg": {"provenance":
  [...]}}` (the renderer ignores output metadata), read here without re-executing anything;
- from the pages computed in-process (synthesis, COPIL pages, the methodology's own table, the social-impact
  chapter when it was not executed): rebuilt here by the same functions, and their traces collected.

The input files a report of year N may read (every input except follow-up sheets of later years) are listed with
the datasets each one feeds; their sha256 are in the set's manifest.json (checked by `ctg verify`), not here: a
whole file's hash changes when any of its rows does (e.g. next year's row of a Caf export), and the report of
year N must not change when only data it does not read changes. Datasets are matched to files by name: 'Caf - s_ben_com_f (indfoy_ndur)' comes from `s_ben_com_f.*`, 'Suivi local - activite' of millésime 2024
from `suivi/2024/activite.*`, 'Caf - txcouv_pe_*' from every `txcouv_pe_…` file.
"""

from __future__ import annotations

import fnmatch
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from pipeline import execute, manifest
from pipeline.report.sortie import millesimes_texte, recueillir, texte
from pipeline.reportset.donnees import Bilan

INTRO = (
    "Chaque figure et chaque tableau de données porte une ligne de provenance : les jeux de données utilisés, "
    "leur millésime et l'**empreinte des données**, c'est-à-dire les huit premiers caractères d'une empreinte "
    "SHA-256 calculée sur les lignes des tables préparées (data/processed) dont la figure ou le tableau est tiré. "
    "L'empreinte porte sur ces lignes seulement, pas sur des fichiers entiers : elle ne change que si une valeur "
    "utilisée change, et les mêmes lignes donnent la même empreinte sur toute machine. Les empreintes complètes "
    "sont listées ci-dessous, chapitre par chapitre, puis les fichiers d'entrée et les jeux de données qui en sont "
    "issus. L'empreinte SHA-256 de chaque fichier d'entrée entier figure dans le fichier manifest.json du jeu de "
    "rapports, que la commande « ctg verify » contrôle."
)
EXCLUS = (
    "Ne portent pas de ligne de provenance, parce qu'ils ne présentent pas de données : les tableaux du chapitre "
    "« Qualité des données » (compte rendu des contrôles des fichiers d'entrée, listés ci-dessous), le glossaire, l'annexe des feuilles de route (texte de la convention) et les listes de cette "
    "section."
)


@dataclass(frozen=True)
class Page:
    """The traces of one chapter or page, in display order."""

    titre: str
    traces: list[dict]


def traces_du_notebook(chemin: Path) -> list[dict]:
    """Traces recorded in an executed notebook's output metadata, in cell order ([] when the file is absent)."""
    if not Path(chemin).is_file():
        return []
    nb = json.loads(Path(chemin).read_text(encoding="utf-8"))
    return [trace for cellule in nb.get("cells", []) for sortie in cellule.get("outputs", [])
            for trace in ((sortie.get("metadata") or {}).get("ctg") or {}).get("provenance", [])]


def pages_du_jeu(bilan: Bilan, interim: Path | None, periodes: tuple[str, ...] = ()) -> list[Page]:
    """Every page with figures or data tables, in the report's order (the methodology's own page excepted)."""
    from pipeline.reportset import chapitres, copil
    from pipeline.reportset.synthese import synthese, tableau_de_bord

    recueillir()  # traces left by earlier in-process calls are not this listing's
    synthese(tableau_de_bord(bilan))
    pages = [Page("Synthèse", recueillir())]
    for th in bilan.thematiques:
        chemin = execute.executed_path(Path(interim), bilan.annee, th) if interim else None
        pages.append(Page(bilan.libelle(th), traces_du_notebook(chemin) if chemin else []))
    chemin = execute.executed_path(Path(interim), bilan.annee, "impact_social") if interim else None
    if chemin is not None and chemin.is_file():
        pages.append(Page("Impact social", traces_du_notebook(chemin)))
    else:
        chapitres.impact_social(bilan, interim)
        pages.append(Page("Impact social", recueillir()))
    for periode in (None, *periodes):
        ch = copil.copil(bilan, periode)
        pages.append(Page(ch.titre, recueillir()))
    return pages


def noms_de_fichiers(source: str) -> list[str]:
    """File stems (or glob patterns) a dataset name refers to: the part after 'Producer - ', parentheses left out,
    '; ' between datasets, 'a_b / _c' for a_b and a_c, spaces as '_', extensions dropped."""
    brut = unicodedata.normalize("NFKD", source).encode("ascii", "ignore").decode().lower()
    brut = re.sub(r"\([^)]*\)", " ", brut)
    noms = []
    for morceau in brut.split(";"):
        precedent = ""
        for partie in morceau.split(" - ", 1)[-1].split("/"):
            nom = re.sub(r"\s+", "_", partie.strip()).split(".")[0]
            if nom.startswith("_") and precedent:
                nom = precedent.rsplit("_", 1)[0] + nom
            if nom:
                noms.append(nom)
                precedent = nom
    return noms


def issu_de(chemin: Path, source: str, millesimes: list[int]) -> bool:
    """True when the dataset `source` (of these millésimes) is read from the file `chemin`; a file in a year's
    folder (follow-up sheets) only for that millésime."""
    annee = chemin.parent.name
    if annee.isdigit() and len(annee) == 4 and int(annee) not in millesimes:
        return False
    return any(fnmatch.fnmatchcase(chemin.stem.lower(), nom) for nom in noms_de_fichiers(source))


def nom_de_jeu(nom: str, millesimes: list[int] = ()) -> str:
    """'« Caf - s_ben_com_f (indfoy_ndur) » (millésimes 2021 à 2023)' (a name may itself hold ' ; ')."""
    return f"«\u00a0{texte(nom)}\u00a0»{millesimes_texte(sorted(millesimes))}"


def ligne_trace(trace: dict) -> str:
    sources = ", ".join(nom_de_jeu(nom, ms) for nom, ms in trace["sources"]) or "non précisées"
    return f"- {trace['titre']}\\\n  Sources : {sources}.\\\n  Empreinte des données : `{trace['empreinte']}`"


def fichiers_de_l_annee(bilan: Bilan) -> list[Path]:
    """Every input of the manifest except the follow-up sheets of years after the report year."""
    suivi = (bilan.layout.territoire_dir / "suivi").resolve()
    garder = []
    for chemin in manifest.input_files(bilan.layout):
        p = chemin.resolve()
        if p.is_relative_to(suivi):
            dossier = p.relative_to(suivi).parts[0]
            if dossier.isdigit() and int(dossier) > bilan.annee:
                continue
        garder.append(chemin)
    return garder


def section(bilan: Bilan, pages: list[Page]) -> list[str]:
    """The methodology's « Provenance des figures et des tableaux » section (Markdown blocks, headings from 2)."""
    corps = ["## Provenance des figures et des tableaux", INTRO, EXCLUS]
    for page in pages:
        if page.traces:
            corps += [f"### {texte(page.titre)}", "\n".join(ligne_trace(t) for t in page.traces)]
    sources: dict[str, set[int]] = {}
    for page in pages:
        for trace in page.traces:
            for nom, millesimes in trace["sources"]:
                sources.setdefault(nom, set()).update(millesimes)
    corps += ["## Fichiers d'entrée", f"Fichiers lus pour produire le rapport {bilan.annee} et jeux de données cités "
              "dans les lignes de provenance qui en sont issus (empreintes SHA-256 : manifest.json)."]
    lignes = []
    for chemin in fichiers_de_l_annee(bilan):
        jeux = sorted(nom for nom, ms in sources.items() if issu_de(chemin, nom, sorted(ms)))
        lignes.append(f"- `{manifest.input_key(chemin, bilan.layout)}`"
                      + (f"\\\n  Jeux de données : {', '.join(map(nom_de_jeu, jeux))}" if jeux else ""))
    corps.append("\n".join(lignes) or "Aucun fichier d'entrée.")
    return corps
