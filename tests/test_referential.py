"""The CTG referential (data/raw/territoires/200040459/ctg.yaml): content against the seed, schema, exports, CLI."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pypandoc
import pytest
import yaml
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.config import ROOT, THEMATIQUES, DataLayout
from pipeline.referential import (
    ACTIONS_COLUMNS,
    CIBLES_COLUMNS,
    ReferentielError,
    load_referentiel,
    to_json,
    to_markdown,
)

DATA = ROOT / "data"
REF_FILE = DataLayout(DATA).referentiel
SEED = ROOT.parent / "shared" / "seed" / "ctg_caf_drome_montelimar_agglomeration_2021_2025.txt"
ROADMAP_START = "1 Structurer, organiser l’offre de service et le maillage territorial en"


def norm(text: str) -> str:
    """Whitespace folded; words the PDF hyphenated at a line end ("adoles- cents") compare equal to the joined word."""
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"(?<=\w)- ?(?=\w)", "", text)


@pytest.fixture(scope="module")
def ref():
    return load_referentiel(REF_FILE)


@pytest.fixture(scope="module")
def seed_text() -> str:
    if not SEED.is_file():
        pytest.skip(f"texte de la convention absent ({SEED}) : comparaison au texte source impossible")
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def roadmap_lines(seed_text) -> list[str]:
    lines = seed_text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(ROADMAP_START))
    return lines[start:]


# Content --------------------------------------------------------------------------------------------------------
def test_six_thematiques_in_project_order(ref):
    assert [t.id for t in ref.thematiques] == list(THEMATIQUES)
    assert ref.thematique("parentalite").libelle == "Accompagnement à la parentalité"


def test_axes_per_thematique(ref):
    assert [len(t.axes) for t in ref.thematiques] == [4, 4, 4, 3, 4, 3]
    assert [a.numero for t in ref.thematiques for a in t.axes] == [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 1, 2, 3, 4, 1, 2, 3]


def test_objective_and_action_counts(ref):
    actions = ref.actions_frame()
    assert len(actions) == 122
    assert actions.groupby("thematique", sort=False).size().tolist() == [19, 22, 21, 27, 20, 13]
    assert [sum(len(a.objectifs) for a in t.axes) for t in ref.thematiques] == [9, 9, 6, 5, 6, 5]
    assert sum(len(a.sous_actions) for *_, a in ref.iter_actions()) == 7


def test_ids_follow_the_parents(ref):
    for t, axe, obj, action in ref.iter_actions():
        assert axe.id == f"{t.id}.{axe.numero}"
        assert obj.id.startswith(f"{axe.id}.o")
        assert re.fullmatch(rf"{re.escape(axe.id)}\.\d\d", action.id)
    assert ref.actions_frame().set_index("action_id").loc["petite_enfance.1.03", "libelle"].startswith("Pérennisation des structures existantes")


def test_caf_priorities_and_logement_without_roadmap(ref):
    assert [len(t.priorites_caf) for t in ref.thematiques] == [3, 3, 3, 4, 3, 4]
    (logement,) = ref.thematiques_sans_feuille_de_route
    assert logement.id == "logement" and len(logement.priorites_caf) == 3
    assert "logement" not in {t.id for t in ref.thematiques}


def test_identity_governance_and_baseline(ref):
    conv = ref.convention
    assert (conv.periode.debut, conv.periode.fin) == (2021, 2025)
    assert [s.nom for s in conv.signataires] == ["Julien CORNILLET", "Brigitte MEYSSIN"]
    assert [p.debut for p in conv.phases] == [2021, 2022, 2022]
    assert ref.gouvernance.comite_pilotage.reunions_par_an == 2
    assert ref.gouvernance.concertation_partenariale.periodicite_annees == 2
    assert any("synthétique et lisible" in m for m in ref.communication.suivi.modalites)
    assert any("après chaque Comité de pilotage" in m for m in ref.communication.habitants.modalites)
    chiffres = {c.id: c for c in ref.situation_initiale.chiffres}
    assert chiffres["population"].valeur == 68096 and chiffres["nb_communes"].valeur == 27
    assert (chiffres["densite_equipements"].valeur, chiffres["densite_equipements_drome"].valeur) == (45, 42.1)
    assert len(ref.objectifs_croises.lignes) == 3


def test_targets(ref):
    cibles = ref.cibles_frame()
    assert list(cibles.columns) == CIBLES_COLUMNS
    assert cibles["cible_id"].is_unique
    assert set(cibles["comparaison"]) <= {">=", "<="}
    assert cibles["unite"].str.len().gt(0).all() and cibles["annee"].between(2021, 2025).all()
    by_id = cibles.set_index("cible_id")
    assert by_id.loc["petite_enfance.1.04.c2", ["valeur", "indicateur"]].tolist() == [44, "places_eaje"]
    assert by_id.loc["petite_enfance.1.03.c1", "valeur"] == 12
    assert by_id.loc["enfance.1.01.c1", ["valeur", "unite", "indicateur"]].tolist() == [95, "%", "taux_frequentation_periscolaire"]
    assert by_id.loc["animation_vie_sociale.1.05.c1", "valeur"] == 3
    assert {"nb_multi_accueil_psu", "nb_points_numeriques_caf", "part_centres_sociaux_referent_familles",
            "nb_qpv_couverts_avs", "places_eaje_creees"} <= set(cibles["indicateur"])


# Faithfulness to the seed ---------------------------------------------------------------------------------------
def test_every_text_is_verbatim_in_the_seed(ref, seed_text):
    seed = norm(seed_text)
    textes = [a.libelle for *_, a in ref.iter_actions()] + [s for *_, a in ref.iter_actions() for s in a.sous_actions]
    textes += [o.libelle for t in ref.thematiques for a in t.axes for o in a.objectifs]
    textes += [a.libelle for t in ref.thematiques for a in t.axes]
    textes += [p for t in ref.thematiques + ref.thematiques_sans_feuille_de_route for p in t.priorites_caf]
    textes += [c.citation for c in ref.situation_initiale.chiffres]
    gouv = ref.gouvernance
    textes += gouv.comite_pilotage.missions + gouv.commissions_thematiques.modalites + ref.communication.suivi.modalites
    for ligne in ref.objectifs_croises.lignes:
        for colonne in (ligne.projet_territoire, ligne.ctg):
            textes += colonne.orientations + ([colonne.axe] if colonne.axe else [])
    absents = [t for t in textes if norm(t) not in seed]
    assert absents == []


def test_no_pdf_glyph_left_in_the_file():
    text = REF_FILE.read_text(encoding="utf-8")
    assert re.findall(r"[\ue000-\uf8ff•]", text) == []  # private-use bullet glyphs of the PDF, "•" markers


def test_every_seed_bullet_is_an_action_in_order(ref, roadmap_lines):
    bullets = [norm(line.replace("•", "", 1)) for line in roadmap_lines if line.lstrip().startswith("•")]
    subs = [norm(line.strip()[2:]) for line in roadmap_lines if line.lstrip().startswith("o ")]
    actions = [a for *_, a in ref.iter_actions()]
    assert len(bullets) == len(actions) == 122
    for bullet, action in zip(bullets, actions):
        # the seed's first line may end on a hyphen the PDF added at a line break
        assert norm(action.libelle).startswith(bullet.rstrip("-")), (action.id, bullet)
    sous_actions = [s for a in actions for s in a.sous_actions]
    assert len(subs) == len(sous_actions)
    assert all(norm(s).startswith(first.rstrip("-")) for first, s in zip(subs, sous_actions))


# Schema ---------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(REF_FILE.read_text(encoding="utf-8"))


def broken(tmp_path: Path, raw: dict, change) -> ReferentielError:
    data = copy.deepcopy(raw)
    change(data)
    path = tmp_path / "ctg.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(ReferentielError) as info:
        load_referentiel(path)
    assert str(path) in str(info.value)
    return info.value


def pe_axe1(data: dict) -> dict:
    return data["thematiques"][1]["axes"][0]


def test_rejects_duplicate_id(tmp_path, raw):
    def change(d):
        pe_axe1(d)["objectifs"][2]["actions"][3]["id"] = "petite_enfance.1.03"
    exc = broken(tmp_path, raw, change)
    assert "thematiques[1].axes[0].objectifs[2].actions[3].id : identifiant en double « petite_enfance.1.03 »" in str(exc)


def test_rejects_objective_without_action(tmp_path, raw):
    def change(d):
        pe_axe1(d)["objectifs"][1]["actions"] = []
    exc = broken(tmp_path, raw, change)
    assert "thematiques[1].axes[0].objectifs[1].actions : objectif « petite_enfance.1.o2 » sans action" in str(exc)


def test_rejects_action_outside_an_objective(tmp_path, raw):
    def change(d):
        pe_axe1(d)["actions"] = pe_axe1(d)["objectifs"].pop(0)["actions"]
    exc = broken(tmp_path, raw, change)
    assert "thematiques[1].axes[0].actions : clé non prévue" in str(exc)


def test_rejects_objective_or_action_of_another_axis(tmp_path, raw):
    def change(d):
        pe_axe1(d)["objectifs"][0]["id"] = "petite_enfance.2.o9"
        pe_axe1(d)["objectifs"][1]["actions"][0]["id"] = "petite_enfance.3.42"
    exc = broken(tmp_path, raw, change)
    assert "thematiques[1].axes[0].objectifs[0].id : l'objectif « petite_enfance.2.o9 » n'appartient pas à l'axe « petite_enfance.1 »" in str(exc)
    assert "thematiques[1].axes[0].objectifs[1].actions[0].id : l'action « petite_enfance.3.42 » est rangée sous l'axe « petite_enfance.1 »" in str(exc)


def test_rejects_wrong_thematique_prefix(tmp_path, raw):
    def change(d):
        pe_axe1(d)["objectifs"][1]["actions"][0]["id"] = "enfance.1.02"
    exc = broken(tmp_path, raw, change)
    assert "thematiques[1].axes[0].objectifs[1].actions[0].id : préfixe « enfance » différent de la thématique « petite_enfance »" in str(exc)


def test_rejects_target_without_unit_or_year(tmp_path, raw):
    def change(d):
        cible = pe_axe1(d)["objectifs"][2]["actions"][0]["cibles"][0]
        del cible["unite"], cible["annee"]
    exc = broken(tmp_path, raw, change)
    path = "thematiques[1].axes[0].objectifs[2].actions[0].cibles[0]"
    assert f"{path}.unite : champ obligatoire manquant" in str(exc)
    assert f"{path}.annee : champ obligatoire manquant" in str(exc)
    assert [chemin for chemin, _ in exc.erreurs] == [f"{path}.unite", f"{path}.annee"]


def test_rejects_bad_id_pattern_and_values(tmp_path, raw):
    def change(d):
        pe_axe1(d)["objectifs"][0]["actions"][0]["id"] = "petite_enfance.1.1"
        cible = pe_axe1(d)["objectifs"][2]["actions"][0]["cibles"][0]
        cible["comparaison"], cible["valeur"] = ">", "douze"
    exc = broken(tmp_path, raw, change)
    assert "thematiques[1].axes[0].objectifs[0].actions[0].id : identifiant « petite_enfance.1.1 » non conforme" in str(exc)
    assert "cibles[0].comparaison : valeur « > » non autorisée" in str(exc)
    assert "cibles[0].valeur : nombre attendu, reçu « douze »" in str(exc)


def test_rejects_malformed_thematique_and_late_target(tmp_path, raw):
    def change(d):
        d["thematiques"][5]["id"] = "Vie sociale"
        pe_axe1(d)["objectifs"][2]["actions"][0]["cibles"][0]["annee"] = 2030
    exc = broken(tmp_path, raw, change)
    assert "thematiques[5].id : identifiant de thématique « Vie sociale » non conforme" in str(exc)
    assert "cibles[0].annee : échéance 2030 hors de la période de la convention (2021-2025)" in str(exc)


def test_rejects_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ReferentielError, match="fichier introuvable"):
        load_referentiel(tmp_path / "absent.yaml")
    bad = tmp_path / "ctg.yaml"
    bad.write_text("thematiques: [a, b\n  x: 1\n", encoding="utf-8")
    with pytest.raises(ReferentielError, match=r"ligne \d+, colonne \d+ : syntaxe YAML invalide"):
        load_referentiel(bad)
    bad.write_text("- une liste\n", encoding="utf-8")
    with pytest.raises(ReferentielError, match=r"\(racine\)"):
        load_referentiel(bad)


# Exports --------------------------------------------------------------------------------------------------------
def test_actions_frame_columns_and_order(ref):
    frame = ref.actions_frame()
    assert list(frame.columns) == ACTIONS_COLUMNS
    assert frame["action_id"].is_unique
    assert frame.iloc[0].to_dict() | {"libelle": None} == {
        "thematique": "acces_droits", "axe_id": "acces_droits.1", "axe_numero": 1,
        "axe_libelle": ref.thematiques[0].axes[0].libelle, "objectif_id": "acces_droits.1.o1",
        "objectif_libelle": "Identifier les acteurs, leurs compétences et leurs missions sur le territoire",
        "action_id": "acces_droits.1.01", "libelle": None,
    }
    assert frame["action_id"].iloc[-1] == "animation_vie_sociale.3.01"


def test_to_json_is_nested(ref):
    data = json.loads(to_json(ref))
    assert [t["id"] for t in data["thematiques"]] == list(THEMATIQUES)
    action = data["thematiques"][1]["axes"][0]["objectifs"][2]["actions"][1]
    assert action["id"] == "petite_enfance.1.04" and action["libelle"]
    assert [c["valeur"] for c in action["cibles"]] == [5, 44, 12]
    assert "Montélimar" in to_json(ref)  # ensure_ascii=False


def test_to_markdown_is_valid_pandoc_with_every_action(ref):
    md = to_markdown(ref)
    assert md.startswith("## ")
    assert all(a.id in md for *_, a in ref.iter_actions())
    html = pypandoc.convert_text(md, "html", format="markdown")
    assert (html.count("<h2"), html.count("<h3"), html.count("<h4"), html.count("<h1")) == (6, 22, 40, 0)
    assert "≥\u00a044\u00a0places, échéance 2025" in md and "`places_eaje`" in md
    assert "<li><code>petite_enfance.1.03</code> Pérennisation" in html


def test_to_markdown_one_thematique(ref):
    md = to_markdown(ref, "jeunesse")
    assert md.count("\n## ") + md.startswith("## ") == 1 and md.count("### Axe") == 3
    assert "jeunesse.3.02" in md and "petite_enfance" not in md
    with pytest.raises(KeyError):
        to_markdown(ref, "logement")


# CLI ------------------------------------------------------------------------------------------------------------
runner = CliRunner()


def test_cli_json():
    result = runner.invoke(app, ["referentiel", "--data-dir", str(DATA), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["thematiques"]) == 6
    assert sum(len(t["axes"]) for t in data["thematiques"]) == 22


def test_cli_markdown(ref):
    result = runner.invoke(app, ["referentiel", "--data-dir", str(DATA), "--format", "markdown"])
    assert result.exit_code == 0
    assert all(a.id in result.stdout for *_, a in ref.iter_actions())


def test_cli_broken_referential_exits_2(tmp_path, raw):
    data = copy.deepcopy(raw)
    del data["thematiques"][0]["axes"][0]["objectifs"][0]["actions"][0]["libelle"]
    target = DataLayout(tmp_path).referentiel
    target.parent.mkdir(parents=True)
    target.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(app, ["referentiel", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "thematiques[0].axes[0].objectifs[0].actions[0].libelle : champ obligatoire manquant" in result.stderr
    assert str(target) in result.stderr and result.stdout == ""


def test_cli_help_ends_with_example():
    result = runner.invoke(app, ["referentiel", "--help"], terminal_width=200)
    assert result.exit_code == 0
    description = [line.strip(" │") for line in result.stdout.splitlines() if line.strip(" │")]
    options_start = next(i for i, line in enumerate(description) if "Options" in line)
    assert description[options_start - 1].startswith("Exemple : ctg referentiel")
