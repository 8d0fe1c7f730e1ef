"""Formula engine: every formula type checked against values computed by hand on tiny inputs; secrecy; catalogue."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from pipeline.config import ROOT, THEMATIQUES
from pipeline.indicators import (
    FORMULAS, OUTPUT_COLUMNS, CatalogueError, Inputs, compute_indicators, load_catalogue,
)
from pipeline.inputs.caf import COLUMNS as CAF_COLUMNS
from pipeline.referential import load_referentiel

TERR = "200000001"
T = pd.Timestamp


def caf_rows() -> pd.DataFrame:
    rows = [
        ("s_ben_com_f", "s_ben_com_f", "commune", "26001", 2023, "", "indfoy_ndur", 1250.0),
        ("s_ben_com_f", "s_ben_com_f", "commune", "26002", 2023, "", "indfoy_ndur", 85.0),
        ("s_ben_com_f", "s_ben_com_f", "commune", "26001", 2023, "", "indnbp_ndur", 2800.0),
        ("s_ben_com_f", "s_ben_com_f", "commune", "26002", 2023, "", "indnbp_ndur", 200.0),
        ("s_ben_com_f", "s_ben_com_f", "commune", "26001", 2023, "", "indfoy_rsa", 155.0),
        ("s_ben_com_f", "s_ben_com_f", "commune", "26002", 2023, "", "indfoy_rsa", np.nan),   # Caf blank
        ("s_ben_com_f", "s_ben_com_f", "commune", "26001", 2023, "", "indfoy_ppa", 320.0),
        ("s_ben_com_f", "s_ben_com_f", "commune", "26002", 2023, "", "indfoy_ppa", 3.0),      # below threshold
        ("s_ben_com_f", "s_ben_com_f", "commune", "26001", 2023, "", "indfoy_apl", 410.0),
        ("s_ben_com_f", "s_ben_com_f", "commune", "26001", 2023, "", "indfoy_als", 205.0),
        ("s_ben_com_f", "s_ben_com_f", "commune", "26002", 2023, "", "indfoy_apl", 10.0),
        ("s_ben_com_f", "s_ben_com_f", "commune", "26002", 2023, "", "indfoy_als", np.nan),
        ("s_ben_com_f", "s_ben_com_f", "commune", "99001", 2023, "", "indfoy_ndur", 999.0),   # other territory
        ("ndur_s_qf_400_com_f", "ndur_s_qf_400_com_f", "commune", "26001", 2023, "Moins de 400 euros", "indfoy_ndur", 300.0),
        ("ndur_s_qf_400_com_f", "ndur_s_qf_400_com_f", "commune", "26001", 2023, "Entre 400 et 799 euros", "indfoy_ndur", 200.0),
        ("ndur_s_qf_400_com_f", "ndur_s_qf_400_com_f", "commune", "26001", 2023, "Inconnu", "indfoy_ndur", 50.0),
        ("txcouv_pe_epci", "txcouv_pe", "epci", TERR, 2023, "", "txcouv", 102.4),
        ("txcouv_pe_epci", "txcouv_pe", "epci", "299999999", 2023, "", "txcouv", 40.0),      # other EPCI
        ("txcouv_pe_com", "txcouv_pe", "commune", "26001", 2023, "", "txcouv", 58.6),
        ("txcouv_pe_dep", "txcouv_pe", "departement", "26", 2023, "", "txcouv", 60.1),
        ("txcouv_pe_dep", "txcouv_pe", "departement", "07", 2023, "", "txcouv", 50.0),        # other department
        ("txcouv_pe_nat", "txcouv_pe", "france", "FR", 2023, "", "txcouv", 59.8),
    ]
    return pd.DataFrame(rows, columns=CAF_COLUMNS)


def equipements() -> pd.DataFrame:
    rows = [
        (2022, "CRECHE_A", "Crèche A", "eaje_psu", "26001", "Alpha", "Quartier A", 20.0, pd.NaT, pd.NaT),
        (2022, "CRECHE_B", "Crèche B", "eaje_psu", "26001", "Alpha", "", 15.0, pd.NaT, T(2023, 6, 30)),
        (2022, "CS_A", "Centre social A", "centre_social", "26001", "Alpha", "Quartier A", np.nan, pd.NaT, pd.NaT),
        (2023, "CRECHE_A", "Crèche A", "eaje_psu", "26001", "Alpha", "Quartier A", 25.0, pd.NaT, pd.NaT),
        (2023, "CRECHE_B", "Crèche B", "eaje_psu", "26001", "Alpha", "", 15.0, pd.NaT, T(2023, 6, 30)),
        (2023, "MICRO_C", "Micro-crèche C", "micro_creche", "26002", "Bêta", "", 12.0, T(2023, 9, 1), pd.NaT),
        (2023, "CS_A", "Centre social A", "centre_social", "26001", "Alpha", "Quartier A", np.nan, pd.NaT, pd.NaT),
    ]
    return pd.DataFrame(rows, columns=["annee", "structure_id", "nom", "type", "code_insee", "commune", "qpv",
                                       "capacite", "date_ouverture", "date_fermeture"])


def activite() -> pd.DataFrame:
    rows = [
        (2023, "CRECHE_A", "heures_realisees", 30000.0), (2023, "CRECHE_A", "heures_offertes", 40000.0),
        (2023, "MICRO_C", "heures_realisees", 9000.0), (2023, "MICRO_C", "heures_offertes", 10000.0),
        (2023, "CRECHE_A", "enfants_handicap", 3.0), (2023, "MICRO_C", "enfants_handicap", 0.0),
        (2023, "CS_A", "etp_referent_familles", 1.0), (2023, "TERRITOIRE", "enfants_scolarises", 200.0),
    ]
    return pd.DataFrame([(*r, "") for r in rows], columns=["annee", "structure_id", "indicateur", "valeur", "unite"])


def inputs() -> Inputs:
    communes = pd.DataFrame({"code_insee": ["26001", "26002"], "commune": ["Alpha", "Bêta"],
                             "niveau_service": [pd.NA, pd.NA], "qpv": ["Quartier A|Quartier B", pd.NA]})
    populations = pd.DataFrame({"annee": [2023, 2023], "code_insee": ["26001", "26002"], "millesime": [2020, 2020],
                                "population_municipale": [1000.0, 500.0], "population_totale": [1010.0, 505.0]})
    financements = pd.DataFrame(
        [(2023, "caf", "psu", "petite_enfance", 1000.0), (2023, "caf", "clas", "parentalite", 200.0),
         (2023, "agglomeration", "budget_propre", "petite_enfance", 5000.0), (2022, "caf", "psu", "petite_enfance", 900.0)],
        columns=["annee", "financeur", "dispositif", "thematique", "montant"])
    actions = pd.DataFrame(
        [(2023, "enfance", "enfance.1.01", "realisee", 100.0), (2023, "enfance", "enfance.1.02", "en_cours", 50.0),
         (2023, "enfance", "enfance.1.03", "", np.nan), (2023, "parentalite", "parentalite.1.01", "abandonnee", 0.0)],
        columns=["annee", "thematique", "action_id", "statut", "avancement"])
    return Inputs(TERR, communes, populations, caf_rows(), equipements(), activite(), financements, actions, seuil=5)


def entry(indicator_id: str, formule, thematique: str = "petite_enfance", secret: bool = False,
          niveaux=("structure", "commune", "qpv", "epci", "departement", "france")) -> dict:
    return {"id": indicator_id, "libelle": indicator_id.replace("_", " "), "thematique": thematique,
            "definition": "essai", "formule": formule, "unite": "u", "sens": "hausse", "source": "essai",
            "niveaux": list(niveaux), "decalage": 0, "cible": None, "principal": False, "secret": secret}


def compute(*entries: dict) -> pd.DataFrame:
    return compute_indicators(inputs(), {e["id"]: e for e in entries})


def get(table: pd.DataFrame, indicateur: str, annee: int, niveau: str, code: str) -> pd.Series:
    rows = table[(table["indicateur"] == indicateur) & (table["annee"] == annee) & (table["niveau"] == niveau)
                 & (table["code_geo"] == code)]
    assert len(rows) == 1, (indicateur, annee, niveau, code, rows)
    return rows.iloc[0]


def val(table, indicateur, annee, niveau, code) -> float:
    return get(table, indicateur, annee, niveau, code)["valeur"]


# --- champ ---------------------------------------------------------------------------------------------------

def test_champ_commune_values_and_epci_sum_of_territory_communes():
    t = compute(entry("alloc", {"type": "champ", "source": "s_ben_com_f", "champ": "indfoy_ndur"}, secret=True))
    assert list(t.columns) == OUTPUT_COLUMNS
    assert val(t, "alloc", 2023, "commune", "26001") == 1250
    assert val(t, "alloc", 2023, "epci", TERR) == 1335          # 99001 is outside the territory
    assert set(t["niveau"]) == {"commune", "epci"}
    assert (t["millesime"] == 2023).all() and (t["source"] == "essai").all()


def test_caf_blank_is_secret_and_small_counts_hidden_at_commune_only():
    t = compute(entry("rsa", {"type": "champ", "source": "s_ben_com_f", "champ": "indfoy_rsa"}),
                entry("ppa", {"type": "champ", "source": "s_ben_com_f", "champ": "indfoy_ppa"}))
    blank = get(t, "rsa", 2023, "commune", "26002")
    assert math.isnan(blank["valeur"]) and bool(blank["secret"])
    small = get(t, "ppa", 2023, "commune", "26002")
    assert math.isnan(small["valeur"]) and bool(small["secret"])
    assert val(t, "ppa", 2023, "epci", TERR) == 323              # EPCI sums the unmasked values
    assert not get(t, "ppa", 2023, "epci", TERR)["secret"]


def test_champ_list_sums_fields_and_a_blank_part_makes_the_sum_secret():
    t = compute(entry("al", {"type": "champ", "source": "s_ben_com_f", "champ": ["indfoy_apl", "indfoy_als"]}))
    assert val(t, "al", 2023, "commune", "26001") == 615
    assert bool(get(t, "al", 2023, "commune", "26002")["secret"])


def test_champ_categories_filter_quotient_familial_bands():
    bands = ["Moins de 400 euros", "Entre 400 et 799 euros"]
    t = compute(entry("qf", {"type": "champ", "source": "ndur_s_qf_400_com_f", "champ": "indfoy_ndur",
                             "categories": bands}))
    assert val(t, "qf", 2023, "commune", "26001") == 500


def test_published_coverage_rate_is_used_as_is_at_every_level():
    t = compute(entry("tx", {"type": "champ", "source": "txcouv_pe", "champ": "txcouv", "agregation": "aucune"}))
    assert val(t, "tx", 2023, "epci", TERR) == 102.4             # published, > 100, never recomputed
    assert val(t, "tx", 2023, "commune", "26001") == 58.6
    assert val(t, "tx", 2023, "departement", "26") == 60.1
    assert val(t, "tx", 2023, "france", "FR") == 59.8
    assert len(t) == 4                                           # other EPCI and department left out


# --- ratio, somme, evolution, population -----------------------------------------------------------------------

def test_ratio_with_factor_and_secret_propagation():
    t = compute(entry("rsa", {"type": "champ", "source": "s_ben_com_f", "champ": "indfoy_rsa"}),
                entry("alloc", {"type": "champ", "source": "s_ben_com_f", "champ": "indfoy_ndur"}),
                entry("part", {"type": "ratio", "numerateur": "rsa", "denominateur": "alloc", "facteur": 100}))
    assert val(t, "part", 2023, "commune", "26001") == pytest.approx(12.4)
    assert val(t, "part", 2023, "epci", TERR) == pytest.approx(155 / 1335 * 100)
    assert bool(get(t, "part", 2023, "commune", "26002")["secret"])


def test_ratio_inline_operands_and_division_by_zero():
    t = compute(entry("occ", {"type": "ratio",
                              "numerateur": {"type": "activite", "indicateur": "heures_realisees"},
                              "denominateur": {"type": "activite", "indicateur": "heures_offertes"}, "facteur": 100}),
                entry("zero", {"type": "ratio", "numerateur": {"type": "equipements", "types": ["micro_creche"]},
                               "denominateur": {"type": "equipements", "types": ["micro_creche"]}}))
    assert val(t, "occ", 2023, "epci", TERR) == pytest.approx(78.0)
    assert val(t, "occ", 2023, "structure", "CRECHE_A") == pytest.approx(75.0)
    assert math.isnan(val(t, "zero", 2022, "commune", "26002"))  # 0 / 0 -> NaN, not an error
    assert val(t, "zero", 2023, "commune", "26002") == 1.0


def test_somme_of_terms_and_missing_part():
    t = compute(entry("s", {"type": "somme", "termes": [
        {"type": "champ", "source": "s_ben_com_f", "champ": "indfoy_rsa"},
        {"type": "champ", "source": "s_ben_com_f", "champ": "indfoy_ppa"}]}))
    assert val(t, "s", 2023, "commune", "26001") == 475
    assert bool(get(t, "s", 2023, "commune", "26002")["secret"])
    assert val(t, "s", 2023, "epci", TERR) == 155 + 323


def test_population_uses_the_millesime_in_force_and_feeds_a_ratio():
    t = compute(entry("pop", {"type": "population"}),
                entry("couv", {"type": "ratio", "numerateur": {"type": "champ", "source": "s_ben_com_f",
                                                              "champ": "indnbp_ndur"},
                               "denominateur": "pop", "facteur": 100}))
    pop = get(t, "pop", 2023, "epci", TERR)
    assert (pop["valeur"], pop["millesime"]) == (1500, 2020)
    assert val(t, "couv", 2023, "commune", "26001") == pytest.approx(280.0)
    assert val(t, "couv", 2023, "epci", TERR) == pytest.approx(3000 / 1500 * 100)
    assert get(t, "couv", 2023, "epci", TERR)["millesime"] == 2020   # oldest source of the ratio


def test_evolution_since_reference_year():
    places = {"type": "equipements", "types": ["eaje_psu", "micro_creche"], "mesure": "capacite"}
    t = compute(entry("creees", {"type": "evolution", "operande": places, "annee_reference": 2022}))
    assert val(t, "creees", 2023, "structure", "CRECHE_A") == 5
    assert val(t, "creees", 2023, "epci", TERR) == 2             # 37 - 35
    assert val(t, "creees", 2023, "commune", "26002") == 12
    assert val(t, "creees", 2022, "epci", TERR) == 0


# --- local data: equipements, activite, financement, actions, python ----------------------------------------------

def test_equipements_count_and_capacity_open_on_31_december():
    types = ["eaje_psu", "micro_creche"]
    t = compute(entry("n", {"type": "equipements", "types": types, "mesure": "nombre"}),
                entry("cap", {"type": "equipements", "types": types, "mesure": "capacite"}))
    assert val(t, "n", 2022, "commune", "26001") == 2 and val(t, "n", 2022, "commune", "26002") == 0
    assert val(t, "n", 2023, "commune", "26001") == 1            # Crèche B closed on 30 June
    assert val(t, "n", 2023, "epci", TERR) == 2
    assert val(t, "n", 2023, "qpv", "Quartier A") == 1
    assert val(t, "cap", 2022, "epci", TERR) == 35 and val(t, "cap", 2023, "epci", TERR) == 37
    assert val(t, "cap", 2023, "structure", "CRECHE_A") == 25


def test_activite_sum_types_territory_pseudo_structure_and_levels():
    t = compute(entry("h", {"type": "activite", "indicateur": "heures_realisees", "types": ["micro_creche"]}),
                entry("all", {"type": "activite", "indicateur": "heures_realisees"}),
                entry("scol", {"type": "activite", "indicateur": "enfants_scolarises"}))
    assert val(t, "h", 2023, "epci", TERR) == 9000
    assert set(t[t["indicateur"] == "h"]["code_geo"]) == {"MICRO_C", "26002", TERR}
    assert val(t, "all", 2023, "qpv", "Quartier A") == 30000 and val(t, "all", 2023, "commune", "26002") == 9000
    scol = t[t["indicateur"] == "scol"]
    assert scol[["niveau", "code_geo", "valeur"]].values.tolist() == [["epci", TERR, 200.0]]


def test_activity_counts_marked_secret_are_hidden_below_threshold_at_structure_level():
    t = compute(entry("hand", {"type": "activite", "indicateur": "enfants_handicap"}))
    hidden = get(t, "hand", 2023, "structure", "CRECHE_A")
    assert math.isnan(hidden["valeur"]) and bool(hidden["secret"])
    assert val(t, "hand", 2023, "structure", "MICRO_C") == 0     # zero discloses nobody
    assert val(t, "hand", 2023, "epci", TERR) == 3


def test_activite_structures_measure_counts_structures_with_a_value():
    t = compute(entry("cs", {"type": "equipements", "types": ["centre_social"]}),
                entry("part", {"type": "ratio", "numerateur": {"type": "activite", "indicateur": "etp_referent_familles",
                                                              "types": ["centre_social"], "mesure": "structures"},
                               "denominateur": "cs", "facteur": 100}))
    assert val(t, "part", 2023, "epci", TERR) == 100


def test_financement_filters():
    t = compute(entry("caf", {"type": "financement", "financeurs": ["caf"]}, niveaux=["epci"]),
                entry("clas", {"type": "financement", "dispositifs": ["clas"]}, niveaux=["epci"]),
                entry("pe", {"type": "financement", "thematiques": ["petite_enfance"]}, niveaux=["epci"]))
    assert val(t, "caf", 2023, "epci", TERR) == 1200 and val(t, "caf", 2022, "epci", TERR) == 900
    assert val(t, "clas", 2023, "epci", TERR) == 200 and val(t, "clas", 2022, "epci", TERR) == 0
    assert val(t, "pe", 2023, "epci", TERR) == 6000


def test_actions_share_count_and_mean_progress():
    t = compute(entry("part", {"type": "actions", "statuts": ["realisee"], "mesure": "part"}, thematique="enfance"),
                entry("diff", {"type": "actions", "statuts": ["reportee", "abandonnee"], "thematique": "toutes"},
                      thematique="transverse"),
                entry("moy", {"type": "actions", "mesure": "avancement_moyen", "thematique": "toutes"},
                      thematique="transverse"))
    assert val(t, "part", 2023, "epci", TERR) == pytest.approx(100 / 3)   # unfollowed action counts as not done
    assert val(t, "diff", 2023, "epci", TERR) == 1
    assert val(t, "moy", 2023, "epci", TERR) == pytest.approx(50.0)


def test_python_functions_qpv_coverage():
    t = compute(entry("couverts", {"type": "python", "fonction": "qpv_couverts_avs"}),
                entry("nb", {"type": "python", "fonction": "nombre_qpv"}))
    assert val(t, "couverts", 2023, "epci", TERR) == 1 and val(t, "nb", 2023, "epci", TERR) == 2


def test_catalogue_secret_flag_applies_threshold_to_the_final_value():
    formula = {"type": "equipements", "types": ["eaje_psu"], "mesure": "capacite"}
    t = compute(entry("cap_secret", formula, secret=True))
    assert val(t, "cap_secret", 2023, "commune", "26001") == 25
    assert bool(get(t, "cap_secret", 2023, "commune", "26002")["secret"]) is False   # zero stays visible


# --- catalogue ------------------------------------------------------------------------------------------------

def write_catalogue(tmp_path: Path, entries: list[dict]) -> Path:
    path = tmp_path / "indicateurs.yaml"
    path.write_text(yaml.safe_dump({"indicateurs": entries}, allow_unicode=True), encoding="utf-8")
    return path


def test_unknown_formula_type_names_the_entry(tmp_path):
    path = write_catalogue(tmp_path, [entry("mon_indicateur", {"type": "moyenne_mobile"})])
    with pytest.raises(CatalogueError, match="« mon_indicateur » : type de formule inconnu « moyenne_mobile »"):
        load_catalogue(path)


@pytest.mark.parametrize("formula, message", [
    ({"type": "ratio", "numerateur": "absent", "denominateur": "x"}, "renvoie à « absent »"),
    ({"type": "champ", "source": "s_ben_com_f"}, "clés obligatoires"),
    ({"type": "python", "fonction": "inconnue"}, "fonction Python inconnue"),
    ("texte", "renvoie à « texte »"),
])
def test_invalid_formulas_are_rejected(tmp_path, formula, message):
    path = write_catalogue(tmp_path, [entry("x", {"type": "population"}), entry("bad", formula)])
    with pytest.raises(CatalogueError, match=message):
        load_catalogue(path)


def test_missing_field_and_bad_thematique(tmp_path):
    incomplete = entry("a", {"type": "population"})
    del incomplete["sens"]
    with pytest.raises(CatalogueError, match="champs manquants \\['sens'\\]"):
        load_catalogue(write_catalogue(tmp_path, [incomplete]))
    with pytest.raises(CatalogueError, match="thématique « Logement » non conforme"):
        load_catalogue(write_catalogue(tmp_path, [entry("b", {"type": "population"}, thematique="Logement")]))
    assert load_catalogue(write_catalogue(tmp_path, [entry("c", {"type": "population"}, thematique="logement")]))


def test_circular_formula_is_reported():
    a = entry("a", {"type": "ratio", "numerateur": "b", "denominateur": "b"})
    b = entry("b", {"type": "somme", "termes": ["a"]})
    with pytest.raises(CatalogueError, match="circulaire"):
        compute_indicators(inputs(), {"a": a, "b": b})


def test_project_catalogue_covers_every_thematique_and_every_referential_target():
    catalogue = load_catalogue(ROOT / "metadata" / "indicateurs.yaml")
    for thematique in THEMATIQUES:
        assert sum(e["thematique"] == thematique for e in catalogue.values()) >= 4, thematique
    used_types = {e["formule"]["type"] for e in catalogue.values()}
    assert set(FORMULAS) - {"somme"} <= used_types     # the project catalogue exercises the engine
    cibles = load_referentiel(ROOT / "data" / "raw" / "territoires" / "200040459" / "ctg.yaml").cibles_frame()
    assert set(cibles["indicateur"]) <= set(catalogue)
    declared = {c for e in catalogue.values() for c in ([e["cible"]] if isinstance(e["cible"], str) else e["cible"] or [])}
    assert declared <= set(cibles["cible_id"])
    principal = {e["thematique"] for e in catalogue.values() if e["principal"]}
    assert set(THEMATIQUES) <= principal
