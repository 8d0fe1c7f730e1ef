"""Data slices of the notebooks (pipeline.tranches) and their fingerprints: a notebook reads only its slice, so a
change elsewhere leaves both its fingerprint and its executed output unchanged."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from pipeline.config import DataLayout, load_params
from pipeline.empreinte import empreinte
from pipeline.execute import Job, run_one
from pipeline.inputs.vocabulary import load_vocabulary
from pipeline.prepare import SORT_KEYS, prepare, write_parquet
from pipeline.report.chargement import contexte
from pipeline.tranches import TABLES, TOUTES, ecrire_empreintes, empreintes, tranche

TERRITOIRE = "200040459"


# --- (a) hand-made tables ---------------------------------------------------------------------------------------

def _tables() -> dict[str, pd.DataFrame]:
    """Rows of enfance, jeunesse and shared rows, years 2023-2025, in prepare's sort order."""
    indicateurs = pd.DataFrame({
        "annee": [2023, 2023, 2023, 2024, 2024, 2024, 2025, 2025],
        "thematique": ["enfance", "jeunesse", "transverse", "enfance", "jeunesse", "transverse", "enfance",
                       "jeunesse"],
        "indicateur": ["places_alsh", "jeunes_pij", "population", "places_alsh", "jeunes_pij", "population",
                       "places_alsh", "jeunes_pij"],
        "valeur": [10.0, 20.0, 30.0, 11.0, 21.0, 31.0, 12.5, 22.0],
    })
    actions = pd.DataFrame({
        "annee": [2023, 2023, 2024, 2024, 2025, 2025],
        "thematique": ["enfance", "jeunesse"] * 3,
        "action_id": ["enfance.1.01", "jeunesse.1.01"] * 3,
        "statut": ["en_cours", "a_engager", "realisee", "en_cours", "realisee", "abandonnee"],
    })
    financements = pd.DataFrame({
        "annee": [2024, 2024, 2024, 2025], "financeur": ["caf", "caf", "epci", "caf"],
        "thematique": ["enfance", "jeunesse", "transverse", "enfance"], "montant": [1.0, 2.0, 3.0, 4.0],
    })
    equipements = pd.DataFrame({
        "annee": [2024, 2024, 2024, 2024, 2025],
        "structure_id": ["ALSH_A", "AUTRE_B", "INCONNU_C", "PIJ_D", "ALSH_A"],
        "type": ["alsh_periscolaire", "autre", "type_inconnu", "point_information_jeunesse", "alsh_periscolaire"],
    })
    activite = pd.DataFrame({
        "annee": [2024, 2024, 2024, 2024, 2025],
        "structure_id": ["ALSH_A", "AUTRE_B", "PIJ_D", "TERRITOIRE", "PIJ_D"],
        "indicateur": ["enfants_inscrits"] * 5, "valeur": [1.0, 2.0, 3.0, 4.0, 5.0],
    })
    return {"indicateurs": indicateurs, "actions": actions, "financements": financements,
            "equipements": equipements, "activite": activite}


def test_slice_keeps_the_thematique_and_shared_rows_in_order():
    tables = _tables()
    t = tranche(tables, "enfance", 2024, load_vocabulary())
    assert list(t) == list(TABLES)
    # indicators: enfance and transverse rows up to the report year, same order
    ind = tables["indicateurs"]
    attendu = ind[(ind["thematique"] != "jeunesse") & (ind["annee"] <= 2024)].reset_index(drop=True)
    pd.testing.assert_frame_equal(t["indicateurs"], attendu)
    assert all(f.empty or f["annee"].max() <= 2024 for f in t.values())  # nothing later than the report year
    # actions: enfance only, and no year after the report year
    assert t["actions"][["annee", "action_id"]].values.tolist() == [[2023, "enfance.1.01"], [2024, "enfance.1.01"]]
    # funding: enfance and transverse rows
    assert t["financements"]["montant"].tolist() == [1.0, 3.0]
    # structures: its types, the transverse type and a type the vocabulary does not know
    assert t["equipements"]["structure_id"].tolist() == ["ALSH_A", "AUTRE_B", "INCONNU_C"]
    # activity: its structures, shared structures and the territory pseudo-structure, not PIJ_D (jeunesse)
    assert t["activite"]["structure_id"].tolist() == ["ALSH_A", "AUTRE_B", "TERRITOIRE"]
    assert all(list(f.index) == list(range(len(f))) for f in t.values())


def test_slice_of_every_thematique_only_cuts_later_years():
    tables = _tables()
    t = tranche(tables, None, 2024)
    for nom, table in tables.items():
        pd.testing.assert_frame_equal(t[nom], table[table["annee"] <= 2024].reset_index(drop=True))
    assert t["actions"]["annee"].tolist() == [2023, 2023, 2024, 2024]


def test_an_empty_thematique_slice_keeps_the_whole_table():
    """Helpers tell "no follow-up sheet at all" (`table.empty`) from "nothing for this thématique"."""
    tables = _tables()
    eq = tables["equipements"]
    assert len(tranche(tables, "parentalite", 2024)["equipements"]) == 2  # the shared structures
    tables["equipements"] = eq[~eq["type"].isin(["autre", "type_inconnu"])].reset_index(drop=True)
    t = tranche(tables, "parentalite", 2024)
    eq = tables["equipements"]
    pd.testing.assert_frame_equal(t["equipements"], eq[eq["annee"] <= 2024].reset_index(drop=True))
    assert t["indicateurs"]["thematique"].tolist() == ["transverse", "transverse"]
    vide = {**tables, "equipements": tables["equipements"].iloc[:0]}
    assert tranche(vide, "parentalite", 2024)["equipements"].empty


def test_missing_optional_tables_are_empty_frames():
    tables = {nom: f for nom, f in _tables().items() if nom in ("indicateurs", "actions")}
    t = tranche(tables, "enfance", 2024)
    assert t["equipements"].empty and t["financements"].empty and t["activite"].empty


def test_fingerprints_follow_the_slices():
    tables = _tables()
    e = empreintes(tables, ["enfance", "jeunesse"], [2024, 2023])
    assert list(e) == ["enfance", "jeunesse", TOUTES] and list(e["enfance"]) == [2023, 2024]
    assert e["enfance"][2024] == empreinte(*tranche(tables, "enfance", 2024).values())
    assert e[TOUTES][2023] == empreinte(*tranche(tables, None, 2023).values())
    assert len({e["enfance"][2024], e["jeunesse"][2024], e[TOUTES][2024]}) == 3

    autre = _tables()  # a jeunesse value changes: only jeunesse and "*" move
    autre["indicateurs"].loc[autre["indicateurs"]["thematique"] == "jeunesse", "valeur"] += 1
    apres = empreintes(autre, ["enfance", "jeunesse"], [2023, 2024])
    assert apres["enfance"] == e["enfance"]
    assert apres["jeunesse"][2024] != e["jeunesse"][2024] and apres[TOUTES][2024] != e[TOUTES][2024]

    plus_tard = _tables()  # a 2025 action changes: the 2024 slices do not see it
    plus_tard["actions"].loc[plus_tard["actions"]["annee"] == 2025, "statut"] = "reportee"
    assert empreintes(plus_tard, ["enfance", "jeunesse"], [2023, 2024]) == e


def test_fingerprint_files_are_deterministic(tmp_path):
    valeurs = {"jeunesse": {2024: "b" * 64, 2023: "a" * 64}, "enfance": {2024: "c" * 64}, TOUTES: {2024: "d" * 64}}
    (tmp_path / "empreintes").mkdir()
    (tmp_path / "empreintes" / "ancienne.json").write_text("{}")
    chemin = ecrire_empreintes(tmp_path, valeurs)
    contenu = chemin.read_bytes()
    assert json.loads(contenu) == {"*": {"2024": "d" * 64}, "enfance": {"2024": "c" * 64},
                                   "jeunesse": {"2023": "a" * 64, "2024": "b" * 64}}
    assert contenu.decode().index('"*"') < contenu.decode().index('"enfance"') < contenu.decode().index('"jeunesse"')
    assert sorted(p.name for p in (tmp_path / "empreintes").iterdir()) == ["enfance.json", "jeunesse.json"]
    assert json.loads((tmp_path / "empreintes" / "jeunesse.json").read_text()) == {"2023": "a" * 64,
                                                                                   "2024": "b" * 64}
    ecrire_empreintes(tmp_path, {k: dict(reversed(v.items())) for k, v in reversed(valeurs.items())})
    assert chemin.read_bytes() == contenu


# --- (b), (c) the sample data and one executed notebook --------------------------------------------------------

THEME, AUTRE, ANNEE = "parentalite", "enfance", 2024


@pytest.fixture(scope="module")
def prepared(sample_data, tmp_path_factory):
    data = tmp_path_factory.mktemp("tranches")
    shutil.copytree(sample_data / "raw", data / "raw")
    layout = DataLayout(data, TERRITOIRE)
    prepare(layout, load_params())
    return layout


@pytest.fixture
def copie(prepared, tmp_path) -> DataLayout:
    """A private copy of the prepared data directory (tests below change its tables)."""
    shutil.copytree(prepared.data_dir, tmp_path / "data")
    return DataLayout(tmp_path / "data", TERRITOIRE)


def lire(layout: DataLayout) -> dict[str, pd.DataFrame]:
    return {nom: pd.read_parquet(layout.processed / f"{nom}.parquet") for nom in TABLES}


def du_theme(theme: str):
    return lambda table: table["thematique"] == theme


def modifier(layout: DataLayout, nom: str, lignes, colonne: str, valeur) -> None:
    """Change `colonne` on the rows selected by `lignes(table)` and write the table back as prepare does."""
    table = pd.read_parquet(layout.processed / f"{nom}.parquet")
    masque = lignes(table)
    assert masque.any(), (nom, "no row to change")
    table.loc[masque, colonne] = valeur(table.loc[masque, colonne]) if callable(valeur) else valeur
    write_parquet(table, layout.processed / f"{nom}.parquet", SORT_KEYS[nom])


def test_prepare_writes_the_fingerprints_of_the_slices(prepared):
    params = load_params()
    ecrites = json.loads((prepared.processed / "empreintes.json").read_text(encoding="utf-8"))
    attendues = empreintes(lire(prepared), params["thematiques"], params["annees"])
    assert ecrites == {cle: {str(a): h for a, h in par_annee.items()} for cle, par_annee in attendues.items()}
    for theme in params["thematiques"]:
        fichier = prepared.processed / "empreintes" / f"{theme}.json"
        assert json.loads(fichier.read_text(encoding="utf-8")) == ecrites[theme]


def test_a_notebook_sees_only_its_slice(prepared):
    ctx = contexte(TERRITOIRE, ANNEE, prepared.data_dir, THEME)
    assert set(ctx.indicateurs["thematique"]) == {THEME, "transverse"}
    assert set(ctx.actions["thematique"]) == {THEME} and ctx.actions["annee"].max() == ANNEE
    tout = contexte(TERRITOIRE, ANNEE, prepared.data_dir, THEME, toutes_thematiques=True)
    toutes = lire(prepared)["indicateurs"]
    assert len(tout.indicateurs) == len(toutes[toutes["annee"] <= ANNEE]) > len(ctx.indicateurs)


def test_changing_another_thematique_leaves_the_notebook_and_its_fingerprint_unchanged(copie, tmp_path):
    layout = copie
    job = Job(THEME, ANNEE, TERRITOIRE, layout.data_dir, tmp_path / "avant.ipynb")
    avant = run_one(job).read_bytes()
    empreintes_avant = empreintes(lire(layout), [THEME, AUTRE], [ANNEE, ANNEE + 1])

    vocab = load_vocabulary().entries["types_structure"]
    types_autre = [t for t, v in vocab.items() if v.get("thematique") == AUTRE]
    structures_autre = set(lire(layout)["equipements"].query("type in @types_autre")["structure_id"])
    modifier(layout, "indicateurs", du_theme(AUTRE), "valeur", lambda v: v + 1000)
    modifier(layout, "actions", du_theme(AUTRE), "statut", "abandonnee")
    modifier(layout, "financements", du_theme(AUTRE), "montant", lambda m: m * 2)
    modifier(layout, "equipements", lambda t: t["type"].isin(types_autre), "capacite", 999.0)
    modifier(layout, "activite", lambda t: t["structure_id"].isin(structures_autre), "valeur", lambda v: v + 7)
    # a later year of the notebook's own thématique: the actions of year N+1
    modifier(layout, "actions", lambda t: (t["thematique"] == THEME) & (t["annee"] == ANNEE + 1), "statut",
             "reportee")

    apres = run_one(Job(THEME, ANNEE, TERRITOIRE, layout.data_dir, tmp_path / "apres.ipynb")).read_bytes()
    assert apres == avant
    empreintes_apres = empreintes(lire(layout), [THEME, AUTRE], [ANNEE, ANNEE + 1])
    assert empreintes_apres[THEME][ANNEE] == empreintes_avant[THEME][ANNEE]
    assert empreintes_apres[THEME][ANNEE + 1] != empreintes_avant[THEME][ANNEE + 1]
    assert empreintes_apres[AUTRE][ANNEE] != empreintes_avant[AUTRE][ANNEE]
    assert empreintes_apres[TOUTES][ANNEE] != empreintes_avant[TOUTES][ANNEE]


def test_changing_the_notebooks_own_rows_changes_its_fingerprint(copie):
    avant = empreintes(lire(copie), [THEME, AUTRE], [ANNEE])
    modifier(copie, "indicateurs", lambda t: (t["thematique"] == THEME) & (t["annee"] == ANNEE), "valeur",
             lambda v: v + 1)
    apres = empreintes(lire(copie), [THEME, AUTRE], [ANNEE])
    assert apres[THEME][ANNEE] != avant[THEME][ANNEE]
    assert apres[AUTRE][ANNEE] == avant[AUTRE][ANNEE]
    assert apres[TOUTES][ANNEE] != avant[TOUTES][ANNEE]
