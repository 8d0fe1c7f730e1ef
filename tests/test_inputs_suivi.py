"""Local follow-up sheets: columns, vocabularies (codes or labels), CSV/XLSX equivalence, errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from pipeline.inputs.common import InputError
from pipeline.inputs.suivi import SCHEMAS, read_sheet, read_suivi, suivi_years
from pipeline.inputs.vocabulary import load_vocabulary

FIXTURES = Path(__file__).parent / "fixtures" / "inputs"


def test_equipements_csv_with_labels_and_french_dates():
    df = read_sheet(FIXTURES / "equipements.csv", "equipements")
    assert df["type"].tolist() == ["eaje_psu", "eaje_psu", "micro_creche", "centre_social"]
    assert df["capacite"].tolist()[:3] == [20.0, 15.0, 12.0] and pd.isna(df["capacite"].iloc[3])
    assert df.loc[1, "date_fermeture"] == pd.Timestamp(2023, 6, 30)
    assert df.loc[2, "date_ouverture"] == pd.Timestamp(2023, 9, 1)
    assert df["qpv"].tolist() == ["Quartier A", "", "", "Quartier A"]


def test_xlsx_with_title_rows_equals_csv(tmp_path):
    csv = read_sheet(FIXTURES / "equipements.csv", "equipements")
    path = tmp_path / "equipements.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Suivi CTG — équipements"])
    sheet.append([])
    sheet.append(SCHEMAS["equipements"].names)
    for row in csv.drop(columns="_ligne").itertuples(index=False):
        sheet.append([None if pd.isna(v) else (v.to_pydatetime() if isinstance(v, pd.Timestamp) else v) for v in row])
    workbook.save(path)
    xlsx = read_sheet(path, "equipements")
    pd.testing.assert_frame_equal(xlsx.drop(columns="_ligne"), csv.drop(columns="_ligne"))
    assert xlsx["_ligne"].tolist() == [4, 5, 6, 7]


def test_activite_default_unit_and_thousands(tmp_path):
    path = tmp_path / "activite.csv"
    path.write_bytes("annee;structure_id;indicateur;valeur;unite\n2024;CRECHE_A;Heures réalisées;12\u00a0345,5;\n"
                     "2024;TERRITOIRE;enfants_scolarises;5 900;élèves\n".encode("cp1252"))
    df = read_sheet(path, "activite")
    assert df["indicateur"].tolist() == ["heures_realisees", "enfants_scolarises"]
    assert df["valeur"].tolist() == [12345.5, 5900.0]
    assert df["unite"].tolist() == ["heures", "élèves"]


def test_actions_status_label_and_range(tmp_path):
    path = tmp_path / "actions.csv"
    path.write_text("action_id,statut,avancement,date_suivi,commentaire,pilote\n"
                    "enfance.1.01,Réalisée,100,2024-11-30,\"Fait, en 2024\",Agglo\n"
                    "enfance.1.02,À ENGAGER,,,,\n", encoding="utf-8")
    df = read_sheet(path, "actions")
    assert df["statut"].tolist() == ["realisee", "a_engager"]
    assert df["commentaire"].iloc[0] == "Fait, en 2024"
    path.write_text("action_id;statut;avancement\nenfance.1.01;en_cours;120\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_sheet(path, "actions")
    assert (info.value.line, info.value.column, info.value.rule) == (2, "avancement", "avancement hors de 0-100")


def test_unknown_vocabulary_value_lists_accepted_codes(tmp_path):
    path = tmp_path / "financements.csv"
    path.write_text("annee;financeur;dispositif;thematique;montant\n2024;Caf;PSU;;1000\n2024;Mécène;psu;;5\n",
                    encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_sheet(path, "financements")
    assert (info.value.line, info.value.column, info.value.value) == (3, "financeur", "Mécène")
    assert "caf, agglomeration, communes, etat, autre" in info.value.hint


def test_financements_default_thematique_from_scheme(tmp_path):
    path = tmp_path / "financements.csv"
    path.write_text("annee;financeur;dispositif;thematique;montant\n2024;Caf;psu;;1 000\n"
                    "2024;État;politique_ville;jeunesse;250,50\n", encoding="utf-8")
    df = read_sheet(path, "financements")
    assert df["financeur"].tolist() == ["caf", "etat"]
    assert df["thematique"].tolist() == ["petite_enfance", "jeunesse"]
    assert df["montant"].tolist() == [1000.0, 250.5]


def test_read_suivi_folder_and_years(tmp_path):
    folder = tmp_path / "suivi" / "2023"
    folder.mkdir(parents=True)
    shutil.copy(FIXTURES / "equipements.csv", folder / "equipements.csv")
    (tmp_path / "suivi" / "brouillon").mkdir()
    assert suivi_years(tmp_path) == [2023]
    assert set(read_suivi(folder)) == {"equipements"}
    (folder / "equipements.xlsx").write_bytes(b"")
    with pytest.raises(InputError, match="deux versions"):
        read_suivi(folder)


def test_vocabulary_has_french_labels_and_units():
    vocab = load_vocabulary()
    assert vocab.label("statuts", "abandonnee") == "Abandonnée"
    assert vocab.normalize("types_structure", "Point numérique Caf") == "point_numerique_caf"
    assert all(entry.get("unite") for entry in vocab.entries["indicateurs_activite"].values())
    assert vocab.territoire == "TERRITOIRE"


def test_input_contract_documents_every_vocabulary_code_and_formula_type():
    from pipeline.config import ROOT
    from pipeline.indicators import FORMULAS

    doc = (ROOT / "docs" / "donnees.md").read_text(encoding="utf-8")
    vocab = load_vocabulary()
    for kind in ("statuts", "types_structure", "financeurs", "dispositifs", "indicateurs_activite"):
        for code in vocab.codes(kind):
            assert f"`{code}`" in doc, (kind, code)
    for kind in FORMULAS:
        assert f"| `{kind}` |" in doc, kind
    for sheet, schema in SCHEMAS.items():
        assert f"### `{sheet}`" in doc
        for column in schema.names:
            assert f"| `{column}` |" in doc, (sheet, column)
