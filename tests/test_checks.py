"""Data checks on the sample data and on the processed tables; the result, its JSON and its French rendering."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pypandoc
import pytest

from pipeline import checks
from pipeline.checks.result import AVERTISSEMENT, Problem, ValidationResult, line, print_result
from pipeline.checks.rules import RULES
from pipeline.config import DataLayout, load_params

PARAMS = load_params()


@pytest.fixture(scope="module")
def clean(sample_data, tmp_path_factory) -> DataLayout:
    data = tmp_path_factory.mktemp("propre") / "data"
    shutil.copytree(sample_data / "raw", data / "raw")
    return DataLayout(data)


@pytest.fixture(scope="module")
def prepared(sample_data, tmp_path_factory) -> DataLayout:
    from pipeline.prepare import prepare

    data = tmp_path_factory.mktemp("prepare") / "data"
    shutil.copytree(sample_data / "raw", data / "raw")
    layout = DataLayout(data)
    prepare(layout, PARAMS)
    return layout


@pytest.fixture(scope="module")
def clean_result(clean, tmp_path_factory) -> tuple[ValidationResult, Path]:
    output = tmp_path_factory.mktemp("rapport") / "v.json"
    return checks.validate(clean, PARAMS, output=output), output


def test_the_sample_data_passes_every_rule(clean, clean_result):
    result, output = clean_result
    raw_files = sorted(p.relative_to(clean.data_dir).as_posix() for p in clean.raw.rglob("*")
                       if p.is_file() and p.suffix in (".csv", ".xlsx", ".yaml", ".geojson"))
    assert result.ok and result.problems == [] and result.warnings == []
    assert result.files == raw_files and len(raw_files) >= 31   # every input file is checked
    assert result.rules_run == result.rules_passed > 60
    assert json.loads(output.read_text(encoding="utf-8"))["regles"] == result.rules_run


def test_a_new_year_extends_the_range_of_years(clean, tmp_path):
    """Once the territory runs a new year (suivi/2026/), its rows are in range; later years are not."""
    from corpus.mutations import edit_sheet

    data = tmp_path / "data"
    shutil.copytree(clean.data_dir, data)
    new = data / "raw" / "territoires" / "200040459" / "suivi" / "2026"
    shutil.copytree(new.parent / "2025", new)

    def year(value):
        def change(workbook):
            sheet = workbook.worksheets[0]
            column = [c.value for c in sheet[4]].index("annee") + 1
            for row in range(5, sheet.max_row + 1):
                sheet.cell(row, column).value = value(row)
        return change

    for sheet in ("activite", "financements"):
        edit_sheet(f"raw/territoires/200040459/suivi/2026/{sheet}.xlsx", year(lambda row: 2026))(data)
    assert checks.validate(DataLayout(data), PARAMS).ok
    edit_sheet("raw/territoires/200040459/suivi/2026/financements.xlsx", year(lambda row: 2027 if row == 6 else 2026))(data)
    result = checks.validate(DataLayout(data), PARAMS)
    assert [(p.file.split("/")[-2:], p.rule, p.lines) for p in result.problems] == [
        (["2026", "financements.xlsx"], "année postérieure à celle du dossier", (6,))]


def test_every_dataset_has_rules_declared_in_one_table():
    assert set(RULES) >= {"caf", "insee.populations", "territoire.communes", "suivi.equipements", "suivi.activite",
                          "suivi.actions", "suivi.financements", "tables.indicateurs", "tables.actions",
                          "tables.financements", "tables.equipements", "tables.activite"}
    import great_expectations.expectations as gxe

    for rules in RULES.values():
        for rule in rules:
            assert rule.text and rule.hint and hasattr(gxe, rule.expectation), rule


def test_the_json_report_is_deterministic(clean, clean_result, tmp_path):
    first, output = clean_result
    (clean.raw / "caf" / "txcouv_pe_com.csv").touch()   # a new mtime changes nothing
    checks.validate(clean, PARAMS, output=tmp_path / "b.json")
    a, b = output.read_bytes(), (tmp_path / "b.json").read_bytes()
    assert a == b
    text = a.decode("utf-8")
    assert str(clean.data_dir.parent) not in text   # paths relative to the data directory, no absolute path
    assert ValidationResult.read_json(output).to_dict() == first.to_dict()


def test_processed_tables_are_checked_after_prepare(prepared):
    result = checks.validate(prepared, PARAMS)   # "auto": the tables are newer than the raw data, checked too
    tables = [f for f in result.files if f.startswith("processed/")]
    assert len(tables) == 5 and result.ok, [line(p) for p in result.problems]
    assert result.rules_run > 150


def test_stale_processed_tables_are_not_checked_but_said_so(prepared, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(prepared.data_dir, data)
    (data / "raw" / "caf" / "s_ben_com_f.csv").touch()
    result = checks.validate(DataLayout(data), PARAMS)
    assert not [f for f in result.files if f.startswith("processed/")]
    assert any("plus anciennes que les données" in note for note in result.skipped)


def _broken_indicators(prepared: DataLayout, tmp_path: Path, change) -> DataLayout:
    data = tmp_path / "data"
    shutil.copytree(prepared.data_dir, data)
    path = DataLayout(data).processed / "indicateurs.parquet"
    table = pd.read_parquet(path)
    change(table)
    table.to_parquet(path, index=False)
    return DataLayout(data)


def test_a_small_count_published_at_commune_level_is_a_problem(prepared, tmp_path):
    def leak(table):
        row = table.index[(table["indicateur"] == "nb_foyers_rsa") & (table["niveau"] == "commune")
                          & table["secret"]][0]
        table.loc[row, ["valeur", "secret"]] = [3.0, False]

    layout = _broken_indicators(prepared, tmp_path, leak)
    with pytest.raises(checks.DataError) as caught:
        checks.validate_processed_or_raise(layout, PARAMS, output=tmp_path / "v.json")
    assert caught.value.exit_code == 2
    problem = next(p for p in caught.value.result.problems if "seuil du secret" in p.rule)
    assert problem.file == "processed/200040459/indicateurs.parquet" and problem.values == ("3",)
    assert "compte inférieur au seuil du secret statistique publié" in str(caught.value)
    assert json.loads((tmp_path / "v.json").read_text(encoding="utf-8"))["problemes"]


def test_processed_contract_breaks_are_reported(prepared, tmp_path):
    def break_contract(table):
        table.loc[0, "valeur"] = -4.0
        table.loc[1, "niveau"] = "canton"
        table.loc[2, "code_geo"] = "XXXXX"
        table.loc[2, "niveau"] = "commune"

    layout = _broken_indicators(prepared, tmp_path, break_contract)
    with pytest.raises(checks.DataError) as caught:
        checks.validate_processed_or_raise(layout, PARAMS)
    result = caught.value.result
    rules = {p.rule for p in result.problems}
    assert {"niveau inconnu", "commune hors du territoire"} <= rules
    assert any(p.rule in ("valeur négative", "part hors de 0-100") for p in result.problems)
    assert all(p.file == "processed/200040459/indicateurs.parquet" for p in result.problems)


def test_an_isolated_secret_cell_is_a_problem(prepared, tmp_path):
    """One hidden commune whose value the EPCI total still contains: the reader could subtract."""
    def isolate(table):
        rows = table[(table["indicateur"] == "nb_foyers_alloc") & (table["niveau"] == "commune")
                     & (table["annee"] == 2023)]
        assert not rows["secret"].any()
        table.loc[rows["valeur"].idxmin(), ["valeur", "secret"]] = [np.nan, True]

    layout = _broken_indicators(prepared, tmp_path, isolate)
    with pytest.raises(checks.DataError) as caught:
        checks.validate_processed_or_raise(layout, PARAMS)
    assert [p.rule for p in caught.value.result.problems] == ["seule cellule secrète de son groupe : le total permet de la "
                                                 "retrouver"]


# --- secondary suppression ------------------------------------------------------------------------------------

def _table(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["indicateur", "annee", "niveau", "code_geo", "valeur", "secret"])


CATALOGUE = {
    "nb": {"id": "nb", "unite": "foyers", "secret": True, "formule": {"type": "champ", "source": "x", "champ": "indfoy_x"}},
    "part": {"id": "part", "unite": "%", "secret": False,
             "formule": {"type": "ratio", "numerateur": "nb", "denominateur": "pop", "facteur": 100}},
    "pop": {"id": "pop", "unite": "habitants", "secret": False, "formule": {"type": "population"}},
}


def test_secondary_suppression_hides_the_next_smallest_cell_and_what_is_computed_from_it():
    nan = np.nan
    table = _table([
        ("nb", 2024, "commune", "A", nan, True),    # true value 3, counted in the EPCI total
        ("nb", 2024, "commune", "B", 40.0, False), ("nb", 2024, "commune", "C", 12.0, False),
        ("nb", 2024, "commune", "D", 0.0, False), ("nb", 2024, "epci", "T", 55.0, False),
        ("part", 2024, "commune", "C", 6.0, False), ("part", 2024, "commune", "B", 8.0, False),
        ("part", 2024, "commune", "A", nan, True), ("part", 2024, "commune", "D", 0.0, False),
        ("part", 2024, "epci", "T", 7.0, False),
        ("pop", 2024, "commune", "C", 200.0, False),
    ])
    out = checks.secondary_suppression(table, None, CATALOGUE)
    hidden = set(zip(out.loc[out["secret"], "indicateur"], out.loc[out["secret"], "code_geo"]))
    assert hidden == {("nb", "A"), ("nb", "C"), ("part", "A"), ("part", "C")}
    assert out.loc[out["secret"], "valeur"].isna().all()
    assert out.loc[~out["secret"], "valeur"].notna().all()
    assert checks.secret.isolated(out).isna().all()
    assert table["secret"].sum() == 2   # the input is not modified


def test_no_secondary_suppression_when_nothing_can_be_recovered():
    nan = np.nan
    caf_blank = _table([("nb", 2024, "commune", "A", nan, True), ("nb", 2024, "commune", "B", 40.0, False),
                        ("nb", 2024, "epci", "T", 40.0, False)])    # the total leaves the blank out
    two_hidden = _table([("nb", 2024, "commune", "A", nan, True), ("nb", 2024, "commune", "B", nan, True),
                         ("nb", 2024, "commune", "C", 30.0, False), ("nb", 2024, "epci", "T", 37.0, False)])
    for table in (caf_blank, two_hidden):
        out = checks.secondary_suppression(table, None, CATALOGUE)
        assert out["secret"].tolist() == table["secret"].tolist()


def test_when_the_other_cells_are_zero_the_total_is_hidden():
    table = _table([("nb", 2024, "commune", "A", np.nan, True), ("nb", 2024, "commune", "B", 0.0, False),
                    ("nb", 2024, "epci", "T", 4.0, False)])
    out = checks.secondary_suppression(table, None, CATALOGUE)
    assert out.set_index("code_geo").loc["T", "secret"]


def test_structures_are_protected_within_their_commune():
    structures = pd.DataFrame({"annee": [2024] * 3, "structure_id": ["S1", "S2", "S3"],
                               "code_insee": ["A", "A", "B"], "qpv": ["", "", ""]})
    table = _table([("nb", 2024, "structure", "S1", np.nan, True), ("nb", 2024, "structure", "S2", 9.0, False),
                    ("nb", 2024, "structure", "S3", np.nan, True),
                    ("nb", 2024, "commune", "A", 12.0, False), ("nb", 2024, "commune", "B", np.nan, True)])
    assert checks.secret.isolated(table, structures).notna().sum() == 1
    out = checks.secondary_suppression(table, structures, CATALOGUE)
    assert out.set_index("code_geo").loc["S2", "secret"]


# --- French output --------------------------------------------------------------------------------------------

def test_one_french_line_per_problem_with_sheet_line_and_cell_column():
    p = Problem("raw/territoires/200040459/suivi/2025/actions.xlsx", "statut hors vocabulaire", column="statut",
                lines=(7,), line_count=1, values=("fini",), hint="Valeurs acceptées : realisee, en_cours",
                sheet="actions", letter="C")
    assert line(p, "donnees") == ("donnees/raw/territoires/200040459/suivi/2025/actions.xlsx, feuille « actions », "
                                  "ligne 7, colonne C (statut) : statut hors vocabulaire (valeur lue : « fini »). "
                                  "Valeurs acceptées : realisee, en_cours.")
    many = Problem("raw/caf/s_ben_com_f.csv", "nombre négatif", column="indfoy_af",
                   lines=tuple(range(2, 14)), line_count=12, values=("-1", "-2"))
    assert line(many).startswith("raw/caf/s_ben_com_f.csv, lignes 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 et 2 autres, "
                                 "colonne « indfoy_af » : nombre négatif (valeurs lues : « -1 », « -2 »)")


def test_print_result_summary_and_exit_semantics(capsys):
    ok = ValidationResult(files=["raw/a.csv", "raw/b.csv"], rules_run=12, rules_passed=12,
                          warnings=[Problem("raw/a.csv", "taux supérieur à 100", severity=AVERTISSEMENT)])
    print_result(ok)
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "Contrôle des données : 2 fichiers, 12 règles, tout est conforme (1 avertissement)."
    assert ok.ok and not ValidationResult(problems=[Problem("raw/a.csv", "x")]).ok


def test_quality_page_is_french_pandoc_markdown(clean_result):
    _, output = clean_result
    result = ValidationResult.read_json(output)
    result.problems.append(Problem("raw/caf/s_ben_com_f.csv", "nombre négatif", column="indfoy_af", lines=(4,),
                                   line_count=1, values=("-1|2",), hint="Les effectifs sont ≥ 0"))
    result.warnings.append(Problem("raw/caf/txcouv_pe_com.csv", "taux de couverture supérieur à 100",
                                   severity=AVERTISSEMENT, column="txcouv_com", lines=(3,), line_count=1))
    md = checks.quality_markdown(result)
    assert md.startswith("# Qualité des données\n")
    assert f"| Fichiers contrôlés | {len(result.files)} |" in md and f"| Règles appliquées | {result.rules_run} |" in md
    assert "Table: Bilan des contrôles des données d'entrée." in md
    html = pypandoc.convert_text(md, "html", format="markdown")
    assert html.count("<table") == 4 and html.count("<caption>") == 4
    assert "-1|2" in html and "ligne 4" in html
    from_file = checks.quality_markdown(output)
    assert "Aucun problème n'a été trouvé" in from_file and "| Problèmes | 0 |" in from_file
