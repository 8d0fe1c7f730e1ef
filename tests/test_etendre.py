"""docs/etendre.md as a test: on a copy of the project, apply the guide's marked code blocks as they are written, run
its marked commands and `ctg run`, then check the reports; plus `ctg nouvelle-thematique`'s refusals and edits.

Marked blocks (info string after the language): `fichier="PATH"` with `ajout="fin"` (appended to the file),
`sous="KEY"` (added at the end of the top-level mapping KEY) or `cellule="markdown|code" avant="TITLE"` (a notebook
cell inserted before the markdown cell TITLE); `executer="oui"` (each line is a command, run in the project).
"""

from __future__ import annotations

import csv
import os
import re
import shlex
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
import yaml

from conftest import CTG, ROOT, run_ctg
from pipeline.config import DataLayout
from pipeline.indicators import load_catalogue
from pipeline.referential import load_referentiel
from pipeline.scaffold import ScaffoldError, nouvelle_thematique

GUIDE = ROOT / "docs" / "etendre.md"
SIREN = "200040459"
IGNORE = shutil.ignore_patterns(".venv", ".git", "reports", "processed", "interim", "__pycache__", "test-artifacts",
                                ".pytest_cache", "_lab", ".ipynb_checkpoints", "bench")
BLOCK = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```\s*$", re.M | re.S)
SPACES = re.compile(r"[\s\u00a0\u202f]+")


# --- the project copy and the guide's blocks ---------------------------------------------------------------------

def project_copy(dest: Path, annees: list[int] | None = None) -> Path:
    """The project without .venv, .git, outputs and processed data; `annees` narrows params.yaml (text edit)."""
    shutil.copytree(ROOT, dest, ignore=IGNORE)
    if annees:
        params = dest / "params.yaml"
        text = re.sub(r"(?m)^annees:.*$", f"annees: {annees}", params.read_text(encoding="utf-8"))
        params.write_text(text, encoding="utf-8")
    return dest


def env_for(projet: Path) -> dict:
    """The copy's own code is imported (ctg, the kernels), as it would be in an analyst's checkout."""
    return {"PYTHONPATH": str(projet), "PYTHONHASHSEED": "0"}


def blocks() -> list[tuple[str, dict, str]]:
    """(language, attributes, content) of every marked block of the guide, in order."""
    found = []
    for lang, info, content in BLOCK.findall(GUIDE.read_text(encoding="utf-8")):
        attrs = dict(item.split("=", 1) for item in shlex.split(info) if "=" in item)
        if attrs:
            found.append((lang, attrs, content))
    return found


def append(path: Path, content: str) -> None:
    gap = "\n\n\n" if path.suffix == ".py" else "\n\n"
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + gap + content, encoding="utf-8")


def add_under(path: Path, key: str, content: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{key}:"))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].strip() or not lines[i][0].isspace()),
               len(lines))
    path.write_text("".join(lines[:end]) + content + "".join(lines[end:]), encoding="utf-8")


def add_cell(path: Path, kind: str, before: str, content: str) -> None:
    nb = nbformat.read(path, as_version=4)
    anchor = next(i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and c.source.strip() == before)
    make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
    nb.cells.insert(anchor, make(content.rstrip("\n")))
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")


def follow_guide(projet: Path) -> list[tuple[str, dict, str]]:
    """Apply every marked block and run every marked command, in the guide's order."""
    done = []
    for lang, attrs, content in blocks():
        if attrs.get("executer") == "oui":
            for line in filter(None, map(str.strip, content.splitlines())):
                args = shlex.split(line)
                assert args[0] in (".venv/bin/ctg", "ctg"), line
                proc = run_ctg(*args[1:], cwd=projet, env=env_for(projet))
                assert proc.returncode == 0, f"{line}\n{proc.stdout}\n{proc.stderr}"
        elif "fichier" in attrs:
            path = projet / attrs["fichier"]
            if attrs.get("ajout") == "fin":
                append(path, content)
            elif "sous" in attrs:
                add_under(path, attrs["sous"], content)
            elif "cellule" in attrs:
                add_cell(path, attrs["cellule"], attrs["avant"], content)
            else:
                raise AssertionError(f"bloc sans mode d'application : {attrs}")
        done.append((lang, attrs, content))
    return done


# --- reading the inputs by hand and the HTML reports ----------------------------------------------------------

def communes(projet: Path) -> dict[str, str]:
    with open(projet / "data" / "raw" / "territoires" / SIREN / "communes.csv", encoding="utf-8") as f:
        return {row["code_insee"]: row["commune"] for row in csv.DictReader(f)}


def caf_counts(projet: Path, fields: list[str], month: str = "2024-12") -> dict[str, int | None]:
    """Per commune of the territory: the sum of the fields in the Caf export (None when a cell is blank/secret)."""
    territory = communes(projet)
    out = {}
    with open(projet / "data" / "raw" / "caf" / "s_ben_com_f.csv", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f, delimiter=";"):
            if row["dtreffre"] == month and row["numcomdo"] in territory:
                cells = [row[field].strip() for field in fields]
                out[row["numcomdo"]] = None if "" in cells else sum(int(c) for c in cells)
    return out


def epci_sum(projet: Path, fields: list[str]) -> int:
    """The EPCI value: every published cell of every commune, summed."""
    return sum(v for field in fields for v in caf_counts(projet, [field]).values() if v is not None)


def communes_without_collective_childcare(projet: Path, annee: int) -> int:
    types = {"eaje_psu", "micro_creche", "creche_familiale"}
    year_end = f"{annee}-12-31"
    with open(projet / "data" / "raw" / "territoires" / SIREN / "suivi" / str(annee) / "equipements.csv",
              encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    equipped = {r["code_insee"] for r in rows if r["type"] in types
                and (not r["date_ouverture"] or r["date_ouverture"] <= year_end)
                and (not r["date_fermeture"] or r["date_fermeture"] >= year_end)}
    return len(set(communes(projet)) - equipped)


def french(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def norm(text: str) -> str:
    return SPACES.sub(" ", text.replace("’", "'")).strip()


class Report(HTMLParser):
    """Tables (caption, header, rows of cell texts), figure captions and image descriptions of an HTML page."""

    def __init__(self, html: str):
        super().__init__()
        self.tables, self.captions, self.alts, self._cell, self._caption = [], [], [], None, None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.tables.append({"caption": "", "rows": []})
        elif tag == "tr" and self.tables:
            self.tables[-1]["rows"].append([])
        elif tag in ("td", "th") and self.tables:
            self._cell = []
        elif tag in ("caption", "figcaption"):
            self._caption = []
        elif tag == "img":
            self.alts.append(norm(attrs.get("alt") or attrs.get("aria-label") or ""))

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1]["rows"][-1].append(norm("".join(self._cell)))
            self._cell = None
        elif tag == "caption" and self._caption is not None:
            self.tables[-1]["caption"] = norm("".join(self._caption))
            self._caption = None
        elif tag == "figcaption" and self._caption is not None:
            self.captions.append(norm("".join(self._caption)))
            self._caption = None

    def handle_data(self, data):
        for buffer in (self._cell, self._caption):
            if buffer is not None:
                buffer.append(data)

    def key_figure(self, label: str, column: str) -> str:
        """The cell of the key-figures table in the row starting with `label`, column `column`."""
        table = next(t for t in self.tables if t["caption"].startswith("Chiffres clés"))
        header = table["rows"][0]
        row = next((r for r in table["rows"][1:] if r and r[0].startswith(label)), None)
        assert row is not None, f"« {label} » absent des chiffres clés : {[r[0] for r in table['rows'][1:]]}"
        return row[header.index(column)]


# --- the guide, end to end -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def guide_applied(tmp_path_factory):
    projet = project_copy(tmp_path_factory.mktemp("etendre") / "projet", annees=[2024])
    done = follow_guide(projet)
    # every thématique stays in params.yaml (the checks accept the financements of the declared ones only); the
    # run is narrowed to the two the guide touches with --thematique, which keeps the test short
    run = run_ctg("run", "--annee", "2024", "--thematique", "petite_enfance", "--thematique", "logement",
                  cwd=projet, env=env_for(projet))
    return projet, done, run


@pytest.mark.e2e
def test_guide_blocks_are_all_marked_and_applied(guide_applied):
    _, done, _ = guide_applied
    kinds = [(a.get("fichier"), a.get("ajout") or a.get("sous") or a.get("cellule") or "commande") for _, a, _ in done]
    assert kinds == [("metadata/indicateurs.yaml", "fin"), ("pipeline/indicators.py", "fin"),
                     ("metadata/indicateurs.yaml", "fin"), ("notebooks/petite_enfance.ipynb", "markdown"),
                     ("notebooks/petite_enfance.ipynb", "code"), (None, "commande"),
                     ("metadata/vocabulaire.yaml", "types_structure")]


@pytest.mark.e2e
def test_ctg_run_succeeds_after_following_the_guide(guide_applied):
    projet, _, run = guide_applied
    assert run.returncode == 0, run.stdout + run.stderr
    lab = subprocess.run([sys.executable, "-m", "pipeline.lab", "--strip", "--check"], cwd=projet,
                         capture_output=True, text=True, env={**os.environ, **env_for(projet)})
    assert lab.returncode == 0, lab.stdout  # the cells the guide adds leave the notebook reviewable


@pytest.mark.e2e
def test_new_indicators_appear_with_their_hand_computed_values(guide_applied):
    projet, _, run = guide_applied
    assert run.returncode == 0, run.stderr
    page = Report((projet / "reports" / SIREN / "2024" / "thematiques" / "petite_enfance.html").read_text("utf-8"))
    assert page.key_figure("Foyers percevant l'allocation de base de la Paje", "2024") == french(
        epci_sum(projet, ["indfoy_ab"]))
    assert page.key_figure("Communes sans accueil collectif du jeune enfant", "2024") == french(
        communes_without_collective_childcare(projet, 2024))


@pytest.mark.e2e
def test_new_chart_has_its_caption_alt_text_and_french_numbers(guide_applied):
    projet, _, run = guide_applied
    assert run.returncode == 0, run.stderr
    page = Report((projet / "reports" / SIREN / "2024" / "thematiques" / "petite_enfance.html").read_text("utf-8"))
    caption = next((c for c in page.captions if c.startswith("Foyers percevant l'allocation de base de la Paje")), "")
    assert caption.startswith("Foyers percevant l'allocation de base de la Paje : les 10 communes les plus "
                              "concernées, 2024. Source : Caf - s_ben_com_f (indfoy_ab) (millésime 2024)."), page.captions
    counts = {c: v for c, v in caf_counts(projet, ["indfoy_ab"]).items() if v is not None and v >= 5}
    top = max(counts, key=counts.get)
    expected = f"Graphique en barres horizontales. {communes(projet)[top]} : {french(counts[top])} foyers ;"
    assert any(alt.startswith(expected) for alt in page.alts), page.alts


@pytest.mark.e2e
def test_scaffolded_thematique_has_its_reports_and_its_indicator(guide_applied):
    projet, _, run = guide_applied
    assert run.returncode == 0, run.stderr
    folder = projet / "reports" / SIREN / "2024"
    assert (folder / "thematiques" / "logement.pdf").read_bytes().startswith(b"%PDF")
    page = Report((folder / "thematiques" / "logement.html").read_text("utf-8"))
    housing = ["indfoy_apl", "indfoy_als", "indfoy_alf"]
    assert page.key_figure("Foyers allocataires percevant une aide au logement", "2024") == french(
        epci_sum(projet, housing))
    assert "À compléter par le comité (axe provisoire)" in norm(
        (folder / "thematiques" / "logement.html").read_text("utf-8"))
    for other in ("index.html", f"copil_{2024}.html"):  # a chapter of the report set: synthesis, COPIL, menu
        assert "Logement et habitat" in norm((folder / other).read_text("utf-8")), other
    assert (folder / "rapport_ctg_2024.pdf").is_file()
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(folder / "rapport_ctg_2024.pdf"), "-"], capture_output=True,
                              text=True).stdout
        assert "Logement et habitat" in norm(text)


@pytest.mark.e2e
def test_scaffold_edits_keep_comments_and_declare_the_thematique(guide_applied):
    projet, _, _ = guide_applied
    ctg_yaml = projet / "data" / "raw" / "territoires" / SIREN / "ctg.yaml"
    original = (ROOT / "data" / "raw" / "territoires" / SIREN / "ctg.yaml").read_text(encoding="utf-8")
    text = ctg_yaml.read_text(encoding="utf-8")
    header = original.split("\nversion:")[0]
    assert text.startswith(header) and "# Thématique ajoutée par « ctg nouvelle-thematique logement »" in text
    ref = load_referentiel(ctg_yaml)
    logement = ref.thematique("logement")
    priorities = yaml.safe_load(original)["thematiques_sans_feuille_de_route"][0]["priorites_caf"]
    assert logement.priorites_caf == priorities and ref.thematiques_sans_feuille_de_route == []
    assert [a.id for *_, a in ref.iter_actions() if a.id.startswith("logement")] == ["logement.1.01"]
    params = yaml.safe_load((projet / "params.yaml").read_text(encoding="utf-8"))
    assert params["thematiques"][-1] == "logement" and params["annees"] == [2024]
    assert "# Paramètres du pipeline CTG" in (projet / "params.yaml").read_text(encoding="utf-8")
    # (read as YAML: the copy's catalogue names a Python function that only the copy's code registers)
    catalogue = {e["id"]: e for e in yaml.safe_load((projet / "metadata" / "indicateurs.yaml").read_text("utf-8"))[
        "indicateurs"]}
    assert catalogue["foyers_aide_logement"]["formule"]["champ"] == catalogue["nb_foyers_al"]["formule"]["champ"]
    assert (catalogue["foyers_aide_logement"]["thematique"], catalogue["nb_foyers_al"]["thematique"]) == (
        "logement", "acces_droits")
    nb = nbformat.read(projet / "notebooks" / "logement.ipynb", as_version=4)
    assert 'thematique = "logement"' in nb.cells[0].source


@pytest.mark.e2e
def test_dvc_declares_the_new_thematique_stages(guide_applied):
    projet, _, _ = guide_applied
    dvc = Path(CTG).parent / "dvc"
    if not dvc.is_file():
        pytest.skip("dvc absent")
    work = projet.parent / "dvc"
    shutil.copytree(projet, work, ignore=shutil.ignore_patterns("reports", "data"))
    subprocess.run(["git", "init", "-q"], cwd=work, check=True)
    listed = subprocess.run([str(dvc), "stage", "list", "--name-only"], cwd=work, capture_output=True, text=True,
                            env={**os.environ, "DVC_NO_ANALYTICS": "1"})
    assert listed.returncode == 0, listed.stderr
    assert "execute@logement-2024" in listed.stdout.split()


# --- ctg nouvelle-thematique: refusals, never overwrites, any thématique ------------------------------------------

@pytest.fixture
def small_project(tmp_path) -> Path:
    return project_copy(tmp_path / "projet")


def snapshot(projet: Path) -> dict[str, bytes]:
    files = ["params.yaml", "metadata/indicateurs.yaml", f"data/raw/territoires/{SIREN}/ctg.yaml"]
    return {f: (projet / f).read_bytes() for f in files} | {
        p.name: p.read_bytes() for p in (projet / "notebooks").glob("*.ipynb")}


def scaffold(projet: Path, thematique: str, libelle: str | None = None):
    return nouvelle_thematique(thematique, DataLayout(projet / "data", SIREN), libelle, root=projet)


@pytest.mark.parametrize("bad", ["Logement", "logement-habitat", "logement2", "transverse", "_x"])
def test_refuses_a_malformed_id_and_writes_nothing(small_project, bad):
    before = snapshot(small_project)
    with pytest.raises(ScaffoldError, match="snake_case") as exc:
        scaffold(small_project, bad, "Libellé")
    assert exc.value.exit_code == 2 and snapshot(small_project) == before


@pytest.mark.parametrize("existing", ["petite_enfance", "parentalite"])
def test_refuses_an_existing_thematique(small_project, existing):
    before = snapshot(small_project)
    with pytest.raises(ScaffoldError, match="existe déjà") as exc:
        scaffold(small_project, existing)
    assert exc.value.exit_code == 1 and snapshot(small_project) == before


def test_never_overwrites_an_existing_notebook(small_project):
    (small_project / "notebooks" / "logement.ipynb").write_text("mon travail", encoding="utf-8")
    before = snapshot(small_project)
    with pytest.raises(ScaffoldError, match="logement.ipynb"):
        scaffold(small_project, "logement")
    assert snapshot(small_project) == before


def test_cli_scaffolds_then_refuses_the_same_id(small_project):
    first = run_ctg("nouvelle-thematique", "logement", cwd=small_project, env=env_for(small_project))
    assert first.returncode == 0, first.stderr
    assert "Logement et habitat" in first.stdout and "notebooks/logement.ipynb" in norm(first.stdout)
    assert "nb_foyers_al" in first.stdout  # the reused Caf fields are pointed out
    after = snapshot(small_project)
    again = run_ctg("nouvelle-thematique", "logement", cwd=small_project, env=env_for(small_project))
    assert again.returncode == 1 and "existe déjà" in again.stderr
    assert snapshot(small_project) == after
    bad = run_ctg("nouvelle-thematique", "Logement", cwd=small_project, env=env_for(small_project))
    assert bad.returncode == 2 and "snake_case" in bad.stderr
    checked = run_ctg("referentiel", "--format", "markdown", cwd=small_project, env=env_for(small_project))
    assert checked.returncode == 0 and "À compléter par le comité" in checked.stdout


def test_any_new_thematique_gets_a_roadmap_indicator_and_needs_a_label(small_project):
    with pytest.raises(ScaffoldError, match="--libelle"):
        scaffold(small_project, "mobilite")
    result = scaffold(small_project, "mobilite", "Mobilité")
    assert result.indicateurs == ["part_actions_realisees_mobilite"]
    catalogue = load_catalogue(small_project / "metadata" / "indicateurs.yaml")
    entry = catalogue["part_actions_realisees_mobilite"]
    assert entry["formule"] == {"type": "actions", "statuts": ["realisee"], "mesure": "part"} and entry["principal"]
    ref = load_referentiel(small_project / "data" / "raw" / "territoires" / SIREN / "ctg.yaml")
    mobilite = ref.thematique("mobilite")
    assert mobilite.libelle == "Mobilité" and mobilite.priorites_caf == []
    assert [t.id for t in ref.thematiques_sans_feuille_de_route] == ["logement"]  # untouched
    assert [(a.id, o.id, x.id) for _, a, o, x in ref.iter_actions() if a.id.startswith("mobilite")] == [
        ("mobilite.1", "mobilite.1.o1", "mobilite.1.01")]
    assert all("À compléter par le comité" in lib for lib in
               (mobilite.axes[0].libelle, mobilite.axes[0].objectifs[0].libelle,
                mobilite.axes[0].objectifs[0].actions[0].libelle))
    # a second new thématique goes after the first one, everything still valid
    scaffold(small_project, "logement")
    params = yaml.safe_load((small_project / "params.yaml").read_text(encoding="utf-8"))
    assert params["thematiques"][-2:] == ["mobilite", "logement"]
    assert [t.id for t in load_referentiel(small_project / "data" / "raw" / "territoires" / SIREN / "ctg.yaml")
            .thematiques][-2:] == ["mobilite", "logement"]
