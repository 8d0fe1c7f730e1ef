"""Social-impact helpers on a small hand-made territory: year-over-year table, equity gaps, logic model, the
catalogue's `modele_logique` field, optional inputs (price index, evaluators' sheet), the notebook template."""

from __future__ import annotations

import textwrap
from types import SimpleNamespace

import nbformat
import pytest

from fixtures.impact import petit
from pipeline.config import DataLayout, NOTEBOOKS_DIR, ROOT, load_params
from pipeline.impact import modele_logique, tableau_evolution, tableau_evolution_periode
from pipeline.impact.donnees import lire_enseignements, lire_indice_prix
from pipeline.impact.equite import ecarts_centre, lecture, parts_qpv
from pipeline.impact.evolution import Seuils, variation
from pipeline.impact.notebooks import SECTIONS, notebook
from pipeline.impact.valeurs import deflate, phrase_euros
from pipeline.indicators import CatalogueError, load_catalogue
from pipeline.inputs.common import InputError
from pipeline.prepare import catalogue_path

L, V, T = petit.ligne, petit.VILLE, petit.TERRITOIRE


# --- year-over-year table -----------------------------------------------------------------------------------------
def test_change_is_flagged_beyond_the_thresholds_points_for_a_rate():
    d = petit.donnees([L("places", 2024, 100), L("places", 2025, 111), L("enfants", 2024, 100), L("enfants", 2025, 105),
                       L("taux", 2024, 80.0), L("taux", 2025, 83.5)])
    ctx, seuils = d.ctx, Seuils(pourcentage=10, points=3)
    m = lambda i, a: ctx.mesure(i, a)  # noqa: E731
    assert variation(ctx, "places", m("places", 2024), m("places", 2025), seuils).signalee  # +11 %
    assert not variation(ctx, "enfants", m("enfants", 2024), m("enfants", 2025), seuils).signalee  # +5 %
    taux = variation(ctx, "taux", m("taux", 2024), m("taux", 2025), seuils)
    assert taux.signalee and taux.absolue == pytest.approx(3.5)  # +3.5 points ≥ 3 (relative +4.4 % is not used)


def test_yoy_table_has_every_indicator_with_n_minus_1_n_and_the_signal():
    d = petit.donnees([L("places", 2024, 100), L("places", 2025, 80), L("taux", 2023, 70.0), L("taux", 2025, 71.0),
                       L("financement_petite_enfance", 2025, 1000)])
    md = tableau_evolution(d, 2025)
    assert "| Places (places) " in md and "forte baisse, défavorable" in md and "-20,0\u00a0%" in md
    assert "70,0 (2023)" in md  # no 2024 value: the one published before is shown with its year
    assert "+1,0\u00a0point" in md
    assert "Sans valeur publiée jusqu'en 2025 : Pop municipale ; Enfants ; Creees." in md
    assert "Table: Évolution 2024-2025 — Petite enfance." in md
    assert "1\u00a0variation est signalée entre 2024 et 2025." in md


def test_yoy_table_accepts_a_plain_report_context_with_params_thresholds():
    d = petit.donnees([L("places", 2024, 100), L("places", 2025, 111)])
    md = tableau_evolution(d.ctx, 2025)
    assert "forte hausse, favorable" in md
    assert f"{load_params()['impact']['evolution']['seuil_pourcentage']}\u00a0%" in md


def test_yoy_table_for_the_annual_report_set_without_displaying(capsys):
    """The report set passes its `Bilan` (premier, libelle, thematiques, params); nothing is printed."""
    d = petit.donnees([L("places", 2024, 100), L("places", 2025, 104)])
    bilan = SimpleNamespace(premier=d.ctx, thematiques=["petite_enfance"], libelle=lambda th: f"« {th} »",
                            params={"impact": {"evolution": {"seuil_pourcentage": 3}}})
    md = tableau_evolution(bilan, 2025, afficher_sortie=False)
    assert "### « petite\\_enfance »" in md and "forte hausse, favorable" in md  # +4 % ≥ 3 %
    assert capsys.readouterr().out == ""


def test_yoy_table_of_the_whole_period():
    d = petit.donnees([L("places", a, v) for a, v in zip(range(2021, 2026), (10, 10, 15, 15, 16))])
    md = tableau_evolution_periode(d, 2021, 2025)
    entete = next(l for l in md.splitlines() if l.startswith("| Indicateur"))
    assert [c.strip() for c in entete.strip("|").split("|")] == [
        "Indicateur", "2021", "2022", "2023", "2024", "2025", "Évolution 2021-2025", "Variations signalées"]
    assert "+60,0\u00a0%" in md and "2023 : +50,0\u00a0%" in md


# --- equity -----------------------------------------------------------------------------------------------------
def equite_donnees():
    lignes = []
    for annee, ville, village, qpv, total in ((2021, 30, 2, 6, 32), (2023, 30, 4, None, 34), (2025, 36, 9, 9, 45)):
        lignes += [L("places", annee, ville, "commune", V), L("places", annee, village, "commune", petit.VILLAGE),
                   L("places", annee, total), L("pop_municipale", annee, 10000, "commune", V),
                   L("pop_municipale", annee, 2000, "commune", petit.VILLAGE)]
        lignes.append(L("places", annee, qpv, "qpv", petit.QPV, secret=qpv is None))
    return petit.donnees(lignes)


def test_qpv_share_leaves_out_secret_years():
    d = equite_donnees()
    serie = parts_qpv(d.ctx, "places", range(2021, 2026))
    assert [(e.annee, round(e.a, 1)) for e in serie] == [(2021, 18.8), (2025, 20.0)]
    assert "est passée de 18,8\u00a0% en 2021 à 20,0\u00a0% en 2025 (+1,2\u00a0point)" in lecture(d.ctx, serie)


def test_main_town_against_other_communes_per_1000_inhabitants():
    d = equite_donnees()
    serie = ecarts_centre(d.ctx, "places", range(2021, 2026))
    assert [(e.annee, e.a, e.b) for e in serie] == [(2021, 3.0, 1.0), (2023, 3.0, 2.0), (2025, 3.6, 4.5)]
    phrase = lecture(d.ctx, serie)
    assert "entre Ville et les autres communes s'est réduit" in phrase
    assert "2,0 en 2021, -0,9 en 2025" in phrase


def test_a_secret_commune_drops_the_year():
    d = petit.donnees([L("places", 2025, 3, "commune", V), L("places", 2025, None, "commune", petit.VILLAGE, True),
                       L("pop_municipale", 2025, 100, "commune", V), L("pop_municipale", 2025, 100, "commune",
                                                                       petit.VILLAGE)])
    assert ecarts_centre(d.ctx, "places", range(2025, 2026)) == []


# --- logic model ------------------------------------------------------------------------------------------------
def test_logic_model_links_are_catalogue_indicators_at_their_declared_levels():
    d = equite_donnees()
    maillons = modele_logique(d, "petite_enfance")
    assert [(m.niveau, m.indicateur) for m in maillons] == [
        ("moyens", "financement_petite_enfance"), ("realisations", "places"), ("resultats", "enfants"),
        ("resultats", "taux"), ("impact", "places"), ("impact", "enfants")]
    impact = next(m for m in maillons if m.niveau == "impact" and m.indicateur == "places")
    assert impact.constat.startswith("20,0\u00a0% en QPV (2025) ; Ville 3,6 ; autres communes 4,5 (2025)")
    sans = next(m for m in maillons if m.indicateur == "enfants" and m.niveau == "impact")
    assert sans.constat.startswith("écart non calculable")


def test_an_impact_indicator_of_the_territory_only_is_its_own_measure():
    entrees = [petit.entree("couverture_qpv", "%", modele="impact", niveaux_=("epci",))]
    d = petit.donnees([L("couverture_qpv", 2021, 50.0), L("couverture_qpv", 2025, 100.0)], entrees)
    (m,) = modele_logique(d, "petite_enfance")
    assert (m.niveau, m.constat) == ("impact", "100,0\u00a0% (2025)")
    assert m.evolution.startswith("↗ +50,0\u00a0points")


def test_catalogue_declares_logic_model_levels_and_rejects_unknown_ones(tmp_path):
    catalogue = load_catalogue(catalogue_path(load_params()))
    niveaux = {e.get("modele_logique") if isinstance(e.get("modele_logique"), str) else "liste"
               for e in catalogue.values() if "modele_logique" in e}
    assert {"moyens", "realisations", "resultats", "impact", "liste"} <= niveaux
    faux = tmp_path / "catalogue.yaml"
    entree = petit.entree("x", "places", modele="effets")
    entree["formule"] = {"type": "equipements", "types": ["eaje_psu"]}
    import yaml
    faux.write_text(yaml.safe_dump({"indicateurs": [entree]}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogueError, match="modele_logique"):
        load_catalogue(faux)


# --- optional inputs --------------------------------------------------------------------------------------------
def test_evaluators_sheet_accepts_ids_labels_and_plural_types(tmp_path):
    layout = DataLayout(tmp_path, "200040459")
    dossier = layout.territoire_dir / "suivi" / "bilan"
    dossier.mkdir(parents=True)
    (dossier / "enseignements.csv").write_text(textwrap.dedent("""\
        Thématique;Type;Texte
        ;Enseignements;Un enseignement général.
        Petite enfance;proposition;"Une proposition « petite enfance » ; avec un point-virgule entre guillemets."
        jeunesse;proposition;
        """), encoding="utf-8")
    table = lire_enseignements(layout, ["petite_enfance", "jeunesse"])
    assert table.to_dict("records") == [
        {"thematique": "transverse", "type": "enseignement", "texte": "Un enseignement général."},
        {"thematique": "petite_enfance", "type": "proposition",
         "texte": "Une proposition « petite enfance » ; avec un point-virgule entre guillemets."}]


def test_evaluators_sheet_errors_name_the_line_and_column(tmp_path):
    layout = DataLayout(tmp_path, "200040459")
    dossier = layout.territoire_dir / "suivi" / "bilan"
    dossier.mkdir(parents=True)
    (dossier / "enseignements.csv").write_text("thematique;type;texte\n;enseignement;ok\nlogement;idée;texte\n",
                                               encoding="utf-8")
    with pytest.raises(InputError) as exc:
        lire_enseignements(layout, ["petite_enfance"])
    assert (exc.value.line, exc.value.column, exc.value.rule) == (3, "thematique", "thématique inconnue")
    assert lire_enseignements(DataLayout(tmp_path / "vide"), ["petite_enfance"]).empty


def test_price_index_gives_constant_euros_and_the_report_says_which_euros(tmp_path):
    layout = DataLayout(tmp_path)
    layout.insee.mkdir(parents=True)
    (layout.insee / "indice_prix.csv").write_text("annee;indice;source\n2024;100;\n2025;102;Insee IPC\n",
                                                  encoding="utf-8")
    indice, source = lire_indice_prix(layout)
    assert indice == {2024: 100.0, 2025: 102.0} and source == "Insee IPC"
    d = petit.donnees([])
    assert "euros courants" in phrase_euros(d, [2024, 2025])
    d.indice_prix, d.source_indice = indice, source
    assert "euros constants de 2025" in phrase_euros(d, [2024, 2025])
    assert deflate(d, 1000, 2024, True) == pytest.approx(1020)
    assert "ne couvre pas toutes les années (2023)" in phrase_euros(d, [2023, 2024, 2025])
    (layout.insee / "indice_prix.csv").write_text("annee;indice\n2024;0\n", encoding="utf-8")
    with pytest.raises(InputError, match="indice nul"):
        lire_indice_prix(layout)


# --- notebooks --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("nom", list(SECTIONS))
def test_notebook_stored_clean_and_equal_to_the_template(nom):
    chemin = NOTEBOOKS_DIR / f"{nom}.ipynb"
    nb = nbformat.read(chemin, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    assert all(c.outputs == [] and c.execution_count is None for c in nb.cells if c.cell_type == "code")
    assert nb.cells[0].metadata.tags == ["parameters"]
    valeurs = {}
    exec(nb.cells[0].source, {}, valeurs)
    assert set(valeurs) == {"territoire", "annee", "data_dir"}
    assert chemin.read_text(encoding="utf-8") == nbformat.writes(notebook(nom)) + "\n"
    assert (ROOT / "notebooks" / f"{nom}.ipynb").is_file()
