"""Generator of corrupted (and of quirky but valid) inputs: each `Case` mutates a copy of the sample data.

A case names the file it breaks, the column and the rule the checks must report, and the line when it is known
(as a spreadsheet shows it). Cases that touch different files and do not depend on each other are validated
together (`batches`): one `ctg validate` per batch, and every problem printed must belong to one of its cases.

Sample layout used here: suivi/2021 and 2024 are UTF-8 CSV with `;`; 2022 is Excel's Windows-1252 CSV with
decimal commas; 2023 is UTF-8 with BOM and `,`; 2025 is XLSX with two title rows and a blank row above the
header (header on row 4, first data row on row 5).
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from pipeline.inputs.common import decode, sniff_separator

SUIVI = "raw/territoires/200040459/suivi"
TERRITOIRE = "raw/territoires/200040459"
XLSX_HEADER_ROW = 4


# --- file helpers ------------------------------------------------------------------------------------------

def _encoding(raw: bytes, name: str) -> str:
    return "utf-8-sig" if name == "utf-8-sig" else name


def read_table(path: Path) -> tuple[list[list[str]], str, str]:
    """Rows of a CSV as written (header first), its separator and encoding."""
    text, encoding = decode(path.read_bytes())
    lines = text.splitlines()
    sep = sniff_separator(lines[0])
    return list(csv.reader(io.StringIO("\n".join(lines)), delimiter=sep)), sep, encoding


def write_table(path: Path, rows: list[list[str]], sep: str, encoding: str) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=sep, lineterminator="\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))


def edit_rows(rel: str, change: Callable[[list[list[str]]], None], sep: str | None = None,
              encoding: str | None = None) -> Callable[[Path], None]:
    """Mutation: edit a CSV's rows in place (optionally re-saved with another separator or encoding)."""
    def mutate(data: Path) -> None:
        path = data / rel
        rows, old_sep, old_encoding = read_table(path)
        change(rows)
        write_table(path, rows, sep or old_sep, encoding or old_encoding)
    return mutate


def edit_sheet(rel: str, change: Callable) -> Callable[[Path], None]:
    """Mutation: edit the first worksheet of an XLSX file with openpyxl."""
    def mutate(data: Path) -> None:
        from openpyxl import load_workbook

        workbook = load_workbook(data / rel)
        change(workbook)
        workbook.save(data / rel)
    return mutate


def column(rows: list[list[str]], name: str) -> int:
    return rows[0].index(name)


def set_cell(rel: str, row: int, name: str, value: str) -> Callable[[Path], None]:
    """Data row `row` (1 = first row under the header) of column `name` set to `value` (CSV or XLSX)."""
    if rel.endswith(".xlsx"):
        def change(workbook) -> None:
            sheet = workbook.worksheets[0]
            header = [c.value for c in sheet[XLSX_HEADER_ROW]]
            sheet.cell(XLSX_HEADER_ROW + row, header.index(name) + 1, value)
        return edit_sheet(rel, change)

    def change_rows(rows: list[list[str]]) -> None:
        rows[row][column(rows, name)] = value
    return edit_rows(rel, change_rows)


def line_of(rel: str, row: int) -> int:
    """Line number a spreadsheet shows for data row `row`."""
    return XLSX_HEADER_ROW + row if rel.endswith(".xlsx") else row + 1


def replace_bytes(rel: str, content: bytes) -> Callable[[Path], None]:
    def mutate(data: Path) -> None:
        (data / rel).write_bytes(content)
    return mutate


def truncate(rel: str, fraction: float) -> Callable[[Path], None]:
    def mutate(data: Path) -> None:
        raw = (data / rel).read_bytes()
        (data / rel).write_bytes(raw[: int(len(raw) * fraction)])
    return mutate


def garbage(size: int = 4000, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


def text_edit(rel: str, change: Callable[[str], str]) -> Callable[[Path], None]:
    """Mutation on the decoded text, re-encoded as it was."""
    def mutate(data: Path) -> None:
        text, encoding = decode((data / rel).read_bytes())
        (data / rel).write_bytes(change(text).encode(encoding))
    return mutate


def rename_header(rel: str, old: str, new: str) -> Callable[[Path], None]:
    if rel.endswith(".xlsx"):
        def change(workbook) -> None:
            for cell in workbook.worksheets[0][XLSX_HEADER_ROW]:
                if cell.value == old:
                    cell.value = new
        return edit_sheet(rel, change)

    def change_rows(rows):
        rows[0][column(rows, old)] = new
    return edit_rows(rel, change_rows)


def drop_column(rel: str, name: str) -> Callable[[Path], None]:
    def change(rows):
        i = column(rows, name)
        for row in rows:
            del row[i]
    return edit_rows(rel, change)


def duplicate_row(rel: str, row: int) -> Callable[[Path], None]:
    def change(rows):
        rows.append(list(rows[row]))
    return edit_rows(rel, change)


def combine(*mutations: Callable[[Path], None]) -> Callable[[Path], None]:
    def mutate(data: Path) -> None:
        for m in mutations:
            m(data)
    return mutate


def first_sheet_is_notes(rel: str) -> Callable[[Path], None]:
    """The data sheet is no longer first: a 'Notes' sheet was inserted before it."""
    def change(workbook) -> None:
        notes = workbook.create_sheet("Notes", 0)
        notes["A1"] = "Saisie en cours — ne pas diffuser"
        workbook.active = 0
    return edit_sheet(rel, change)


def more_title_rows(rel: str, count: int) -> Callable[[Path], None]:
    def change(workbook) -> None:
        sheet = workbook.worksheets[0]
        sheet.insert_rows(1, count)
        sheet["A1"] = "Tableau transmis par le service enfance-jeunesse"
    return edit_sheet(rel, change)


def caf_labels(rel: str, labels: dict[str, str]) -> Callable[[Path], None]:
    """Header of a Caf export replaced by French labels ("export avec libellés")."""
    def change(rows):
        rows[0] = [labels.get(name, name) for name in rows[0]]
    return edit_rows(rel, change)


def duplicate_action_in_referential(data: Path) -> None:
    path = data / TERRITOIRE / "ctg.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("id: petite_enfance.1.02\n", "id: petite_enfance.1.01\n", 1), encoding="utf-8")


# --- cases ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    name: str
    mutate: Callable[[Path], None]
    file: str                      # path below the data dir that the message must name
    rule: str                      # fragment of the rule's French text
    column: str | None = None      # column the message must name
    line: int | None = None
    extra: tuple[str, ...] = ()    # other fragments the message must contain (hint, sheet, letter)
    unit: str = ""                 # "*": validated alone (see batch_unit)
    also: tuple[str, ...] = field(default=())   # other files a case may legitimately report

    @property
    def batch_unit(self) -> str:
        """Cases of one unit are never validated together: the same file, the same year's structures
        (an unreadable equipements sheet turns off the activity links of that year), or a global file."""
        if self.unit:
            return self.unit
        if self.file.startswith(SUIVI):
            year, sheet = self.file.split("/")[-2:]
            sheet = sheet.split(".")[0]
            return f"{year}/{'structures' if sheet in ('equipements', 'activite') else sheet}"
        return self.file


def s(year: int, sheet: str, ext: str = "csv") -> str:
    return f"{SUIVI}/{year}/{sheet}.{ext}"


E24 = s(2024, "equipements")
A24 = s(2024, "activite")
ACT24 = s(2024, "actions")
F24 = s(2024, "financements")
ACT25 = s(2025, "actions", "xlsx")
EQ25 = s(2025, "equipements", "xlsx")
AC25 = s(2025, "activite", "xlsx")
F25 = s(2025, "financements", "xlsx")
UNKNOWN_LABELS = {"dtreffre": "Date de référence", "numcomdo": "Code commune", "nomcom": "Nom de la commune",
                  "indfoy_ndur": "Nombre de foyers allocataires",
                  "indfoy_cf": "Foyers bénéficiaires du complément familial (hors majoration)"}
KNOWN_LABELS = {"annee": "Année", "numepci": "Code EPCI", "nomepci": "Nom de l'EPCI",
                "txcouv_epci": "Taux de couverture global", "txcouv_psu_col_epci": "Taux de couverture EAJE PSU",
                "txcouv_hors_psu_col_epci": "Taux de couverture EAJE hors PSU",
                "txcouv_eaje_epci": "Taux de couverture EAJE",
                "txcouv_prescol_epci": "Taux de couverture préscolarisation",
                "txcouv_am_ind_epci": "Taux de couverture assistants maternels",
                "txcouv_gad_ind_epci": "Taux de couverture salariés à domicile",
                "txcouv_ind_epci": "Taux de couverture accueil individuel"}


def _empty_dates_row(rows) -> int:
    """First data row of an equipements sheet without dates."""
    i_open, i_close = column(rows, "date_ouverture"), column(rows, "date_fermeture")
    return next(i for i, r in enumerate(rows[1:], start=1) if not r[i_open] and not r[i_close])


def _closing_before_opening(rows) -> None:
    i = 3
    rows[i][column(rows, "date_ouverture")] = "2024-06-01"
    rows[i][column(rows, "date_fermeture")] = "2024-01-15"


CASES: list[Case] = [
    Case("separateur_inconnu", edit_rows(F24, lambda rows: None, sep="|"), F24, "colonne(s) manquante(s)",
         "annee", extra=("séparateur",)),
    Case("colonne_manquante", drop_column(ACT24, "statut"), ACT24, "colonne(s) manquante(s)", "statut"),
    Case("colonne_renommee", rename_header(A24, "valeur", "valeur_declaree"), A24, "colonne(s) manquante(s)",
         "valeur", extra=("valeur_declaree",)),
    Case("texte_dans_un_compte", set_cell(A24, 4, "valeur", "douze"), A24, "nombre illisible", "valeur",
         line_of(A24, 4), extra=("douze",)),
    Case("compte_negatif", set_cell(s(2021, "activite"), 4, "valeur", "-3"), s(2021, "activite"),
         "valeur négative", "valeur", line_of(A24, 4), extra=("-3",)),
    Case("taux_negatif_caf", set_cell("raw/caf/txcouv_pe_epci.csv", 3, "txcouv_epci", "-5"),
         "raw/caf/txcouv_pe_epci.csv", "taux de couverture négatif", "txcouv_epci", 4),
    Case("avancement_hors_plage", set_cell(ACT24, 2, "avancement", "150"), ACT24, "avancement hors de 0-100",
         "avancement", 3, extra=("150",)),
    Case("commune_inconnue", set_cell(E24, 5, "code_insee", "26999"), E24, "commune hors du territoire",
         "code_insee", 6, extra=("26999",)),
    Case("action_inconnue", set_cell(s(2021, "actions"), 3, "action_id", "petite_enfance.9.99"),
         s(2021, "actions"), "action absente du référentiel", "action_id", 4, extra=("petite_enfance.9.99",)),
    Case("statut_faux_xlsx", set_cell(ACT25, 3, "statut", "fini"), ACT25, "statut hors vocabulaire", "statut",
         line_of(ACT25, 3), extra=("feuille « actions »", "colonne B (statut)", "« fini »")),
    Case("lignes_en_double", duplicate_row(s(2022, "actions"), 5), s(2022, "actions"), "action suivie deux fois",
         "action_id"),
    Case("structure_en_double", duplicate_row(s(2023, "equipements"), 2), s(2023, "equipements"),
         "identifiant de structure en double", "structure_id"),
    Case("mauvaise_annee", set_cell(F24, 2, "annee", "2027"), F24, "année postérieure à celle du dossier", "annee",
         3, extra=("2027",)),
    Case("annee_avant_convention", set_cell(s(2023, "activite"), 6, "annee", "2018"), s(2023, "activite"),
         "année antérieure au début de la convention", "annee", 7),
    Case("fichier_vide", replace_bytes(ACT24, b""), ACT24, "le fichier est vide"),
    Case("csv_tronque", truncate(s(2022, "activite"), 0.5), s(2022, "activite"), "cellules au lieu de"),
    Case("xlsx_tronque", truncate(EQ25, 0.6), EQ25, "classeur Excel endommagé"),
    Case("octets_aleatoires_csv", replace_bytes(s(2021, "equipements"), garbage()), s(2021, "equipements"), ""),
    Case("octets_aleatoires_xlsx", replace_bytes(AC25, garbage(seed=11)), AC25, "classeur Excel"),
    Case("xlsx_feuille_manquante", first_sheet_is_notes(F25), F25, "ligne d'en-tête introuvable",
         extra=("feuilles du classeur : Notes, financements",)),
    Case("xlsx_entete_faux", rename_header(ACT25, "statut", "État de l'action"), ACT25,
         "colonne(s) manquante(s)", "statut", extra=("etat_de_l_action",)),
    Case("date_illisible", set_cell(s(2023, "actions"), 7, "date_suivi", "31/13/2023"), s(2023, "actions"),
         "date illisible", "date_suivi", 8, extra=("31/13/2023",)),
    Case("montant_negatif", set_cell(s(2022, "financements"), 4, "montant", "-1\u00a0500,00"),
         s(2022, "financements"), "montant négatif", "montant", 5, extra=("-1500",)),
    Case("financeur_inconnu", set_cell(s(2021, "financements"), 2, "financeur", "mecene"),
         s(2021, "financements"), "financeur hors vocabulaire", "financeur", 3, extra=("mecene",)),
    Case("structure_commune_inconnue_xlsx", set_cell(EQ25, 4, "code_insee", "07300"), EQ25,
         "commune hors du territoire", "code_insee", line_of(EQ25, 4), extra=("colonne D (code_insee)", "07300")),
    Case("activite_structure_inconnue", set_cell(A24, 8, "structure_id", "ALSH_FANTOME"), A24,
         "structure inconnue cette année-là", "structure_id", 9, extra=("ALSH_FANTOME",)),
    Case("financement_thematique_inconnue", set_cell(F24, 5, "thematique", "sport"), F24, "thématique inconnue",
         "thematique", 6, extra=("sport",)),
    Case("libelles_inconnus", caf_labels("raw/caf/s_ben_com_f.csv", UNKNOWN_LABELS), "raw/caf/s_ben_com_f.csv",
         "en-tête avec des libellés", extra=("décochant",)),
    Case("caf_texte_dans_un_compte", set_cell("raw/caf/ndur_s_qf_400_com_f.csv", 9, "indnbp_ndur", "n/c"),
         "raw/caf/ndur_s_qf_400_com_f.csv", "nombre illisible", "indnbp_ndur", 10),
    Case("caf_compte_negatif", set_cell("raw/caf/nbpla_pe_epci.csv", 2, "pl_psu_col_epci", "-10"),
         "raw/caf/nbpla_pe_epci.csv", "nombre négatif", "pl_psu_col_epci", 3),
    Case("caf_lignes_en_double", duplicate_row("raw/caf/txcouv_pe_dep.csv", 2), "raw/caf/txcouv_pe_dep.csv",
         "ligne en double"),
    Case("type_inconnu", set_cell(s(2022, "equipements"), 3, "type", "creche_geante"), s(2022, "equipements"),
         "type de structure hors vocabulaire", "type", 4, extra=("creche_geante",)),
    Case("dispositif_inconnu", set_cell(s(2023, "financements"), 3, "dispositif", "loto"),
         s(2023, "financements"), "dispositif hors vocabulaire", "dispositif", 4),
    Case("fermeture_avant_ouverture", edit_rows(s(2024, "equipements"), _closing_before_opening), E24,
         "fermeture avant l'ouverture", "date_fermeture", 4),
    Case("population_negative", set_cell("raw/insee/populations_legales.csv", 10, "population_municipale", "-5"),
         "raw/insee/populations_legales.csv", "population négative", "population_municipale", 11),
    Case("indicateur_inconnu", set_cell(s(2021, "activite"), 2, "indicateur", "sourires"), s(2021, "activite"),
         "indicateur d'activité hors vocabulaire", "indicateur", 3),
    Case("valeur_obligatoire_manquante", set_cell(s(2023, "equipements"), 4, "nom", ""), s(2023, "equipements"),
         "valeur obligatoire manquante", "nom", 5),
    Case("csv_et_xlsx", lambda data: (data / s(2025, "actions")).write_text("action_id;statut\n", encoding="utf-8"),
         s(2025, "actions"), "deux versions"),
    Case("enseignement_type_inconnu", set_cell(f"{SUIVI}/bilan/enseignements.csv", 3, "type", "leçon"),
         f"{SUIVI}/bilan/enseignements.csv", "type inconnu", "type", 4, extra=("leçon",)),
    Case("indice_des_prix_negatif", lambda data: (data / "raw/insee/indice_prix.csv").write_text(
        "annee;indice;source\n2021;100;INSEE\n2022;-3,5;INSEE\n", encoding="utf-8"),
         "raw/insee/indice_prix.csv", "indice nul ou négatif", "indice", 3, extra=("-3,5",)),
    # Global files: everything else depends on them, so they are validated alone.
    Case("referentiel_casse", duplicate_action_in_referential, f"{TERRITOIRE}/ctg.yaml", "identifiant en double",
         extra=("colonne « thematiques[", ".actions[", "« petite_enfance.1.01 »"), unit="*"),
    Case("communes_en_double", duplicate_row(f"{TERRITOIRE}/communes.csv", 3), f"{TERRITOIRE}/communes.csv",
         "commune en double", unit="*"),
]

# Real export quirks: each must pass validation with no problem (they are all applied together).
QUIRKS: dict[str, Callable[[Path], None]] = {
    "bom_utf8": text_edit(ACT24, lambda t: "\ufeff" + t.lstrip("\ufeff")),
    "windows_1252": edit_rows(E24, lambda rows: None, encoding="cp1252"),
    "virgules_decimales_et_milliers": combine(
        edit_rows(F24, lambda rows: [r.__setitem__(column(rows, "montant"), r[column(rows, "montant")] + ",00")
                                     for r in rows[1:]]),
        edit_rows(A24, lambda rows: [r.__setitem__(column(rows, "valeur"), f"{float(r[column(rows, 'valeur')]):,.1f}"
                                                   .replace(",", "\u202f").replace(".", ","))
                                     for r in rows[1:]])),
    "lignes_vides_en_fin": text_edit(s(2021, "actions"), lambda t: t + "\n;;;;;\n\n\n"),
    "xlsx_entete_decale": more_title_rows(ACT25, 3),
    "caf_export_avec_libelles": caf_labels("raw/caf/txcouv_pe_epci.csv", KNOWN_LABELS),
    "tabulations": edit_rows(s(2021, "financements"), lambda rows: None, sep="\t"),
    "caf_reenregistre_excel": edit_rows("raw/caf/s_ben_com_f.csv", lambda rows: None, encoding="cp1252"),
}

# Unusual but acceptable values: reported as warnings, exit code 0.
WARNINGS: list[Case] = [
    Case("taux_superieur_a_100", set_cell("raw/caf/txcouv_pe_com.csv", 2, "txcouv_com", "112.5"),
         "raw/caf/txcouv_pe_com.csv", "taux de couverture supérieur à 100", "txcouv_com", 3),
    Case("feuille_absente", lambda data: (data / F24).unlink(), F24, "feuille absente"),
    Case("colonne_facultative_renommee", rename_header(EQ25, "capacite", "Places agréées"), EQ25,
         "colonne non reconnue", "places_agreees", extra=("colonne F (places_agreees)",)),
    Case("correction_annee_precedente", set_cell(s(2024, "activite"), 10, "annee", "2023"), A24,
         "ligne d'une année antérieure au dossier", "annee", 11),
]


def batches(cases: list[Case]) -> list[list[Case]]:
    """Greedy grouping: one case per unit in a batch; units marked "*" alone."""
    out: list[list[Case]] = []
    for case in cases:
        if case.batch_unit == "*":
            out.append([case])
            continue
        for batch in out:
            if batch[0].batch_unit != "*" and all(c.batch_unit != case.batch_unit for c in batch):
                batch.append(case)
                break
        else:
            out.append([case])
    return out
