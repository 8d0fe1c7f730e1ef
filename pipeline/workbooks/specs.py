"""What each workbook looks like: its columns (header, width, editable or not, validation) and French notes.

Headers of the columns the readers use are the schema names of `pipeline.inputs.suivi.SCHEMAS`, in the same
order; read-only help columns (« … (aide) ») come after them and are ignored by the readers.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.inputs.suivi import SCHEMAS


@dataclass(frozen=True)
class Column:
    """One column of a data sheet.

    `key`: the schema column name (written as the header), or a help column's French title.
    `editable`: whether the cell can be changed on a prefilled row (rows left free for additions are editable
    except help columns). `check`: the input rule shown in Excel — `list:<vocabulary list>`, `percent`,
    `amount` (decimal ≥ 0), `count` (whole number ≥ 0), `date`, `suivi_date` (date within the year or the next),
    `year` (whole number, earlier years allowed for corrections), `text` (kept as text, e.g. INSEE codes).
    """

    key: str
    width: int
    editable: bool = True
    check: str = ""
    helper: bool = False
    note: str = ""


@dataclass(frozen=True)
class SheetSpec:
    name: str            # file stem and data sheet title: equipements, activite, actions, financements
    title: str           # purpose, shown in the title row
    columns: tuple[Column, ...]
    free_rows: int       # empty editable rows below the prefilled ones, to add lines
    purpose: str         # one paragraph for the instructions sheet

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]


SPECS: dict[str, SheetSpec] = {
    "actions": SheetSpec(
        "actions", "Suivi des actions de la CTG",
        (
            Column("action_id", 20, editable=False, note="identifiant de l'action dans le référentiel (ne pas modifier)"),
            Column("statut", 14, check="list:statuts",
                   note="obligatoire — choisissez dans la liste ; prérempli avec le statut de l'année précédente"),
            Column("avancement", 12, check="percent", note="pourcentage de 0 à 100 ; prérempli avec l'année précédente"),
            Column("date_suivi", 13, check="suivi_date",
                   note="date du point de suivi de cette année (comité de pilotage), JJ/MM/AAAA"),
            Column("commentaire", 40, note="explication, notamment pour un report ou un abandon"),
            Column("pilote", 30, note="service ou structure pilote ; repris de l'année précédente"),
            Column("Libellé de l'action (aide)", 70, editable=False, helper=True, note="rappel, non lu par le pipeline"),
            Column("Axe (aide)", 45, editable=False, helper=True, note="rappel, non lu par le pipeline"),
            Column("Thématique (aide)", 20, editable=False, helper=True, note="rappel, non lu par le pipeline"),
        ),
        free_rows=0,
        purpose="Une ligne par action du référentiel de la convention (ctg.yaml). Mettez à jour le statut et "
                "l'avancement de chaque action, et indiquez la date du point de suivi de l'année.",
    ),
    "equipements": SheetSpec(
        "equipements", "Équipements et structures",
        (
            Column("structure_id", 24, editable=False, check="text",
                   note="identifiant stable de la structure (repris d'une année à l'autre) ; "
                        "pour une nouvelle structure, inventez un identifiant en majuscules, sans espace"),
            Column("nom", 45, note="obligatoire — nom de la structure"),
            Column("type", 34, check="list:types_structure", note="obligatoire — choisissez dans la liste"),
            Column("code_insee", 12, check="list:communes", note="obligatoire — code INSEE de la commune d'implantation"),
            Column("qpv", 28, check="list:qpv", note="quartier prioritaire d'implantation, sinon laisser vide"),
            Column("capacite", 10, check="count", note="places autorisées (EAJE, accueils de loisirs, accueils jeunes)"),
            Column("date_ouverture", 15, check="date", note="ouverture ou agrément, si pendant la convention"),
            Column("date_fermeture", 15, check="date",
                   note="à remplir si la structure a fermé : ne supprimez pas sa ligne"),
        ),
        free_rows=15,
        purpose="Les structures connues de l'année, reprises de l'année précédente (les structures fermées "
                "avant le 1er janvier ne sont pas reprises). Corrigez ce qui a changé, indiquez les fermetures et "
                "ajoutez les nouvelles structures dans les lignes libres en bas.",
    ),
    "activite": SheetSpec(
        "activite", "Activité des structures",
        (
            Column("annee", 8, editable=False, check="year", note="année de l'activité"),
            Column("structure_id", 24, editable=False, check="text",
                   note="structure de la feuille equipements, ou TERRITOIRE pour un compte du territoire entier"),
            Column("indicateur", 40, editable=False, check="list:indicateurs_activite",
                   note="indicateur d'activité (voir l'onglet Vocabulaire)"),
            Column("valeur", 12, check="amount", note="obligatoire — valeur de l'année (nombre ≥ 0)"),
            Column("unite", 14, editable=False, note="unité de la valeur"),
            Column("Structure (aide)", 45, editable=False, helper=True, note="rappel, non lu par le pipeline"),
            Column("Valeur de l'année précédente (aide)", 16, editable=False, helper=True,
                   note="pour comparaison, non lue par le pipeline"),
        ),
        free_rows=30,
        purpose="Les comptes d'activité attendus, structure par structure, d'après ceux de l'année précédente. "
                "Saisissez la valeur de l'année dans la colonne « valeur ».",
    ),
    "financements": SheetSpec(
        "financements", "Financements",
        (
            Column("annee", 8, editable=False, check="year", note="année du financement"),
            Column("financeur", 16, editable=False, check="list:financeurs", note="financeur"),
            Column("dispositif", 45, editable=False, check="list:dispositifs", note="dispositif de financement"),
            Column("thematique", 22, editable=False, check="list:thematiques",
                   note="thématique de la convention ; vide = thématique du dispositif"),
            Column("montant", 14, check="amount", note="obligatoire — montant en euros (nombre ≥ 0)"),
            Column("Montant de l'année précédente (aide)", 16, editable=False, helper=True,
                   note="pour comparaison (somme des lignes du même financement), non lu par le pipeline"),
        ),
        free_rows=15,
        purpose="Les lignes de financement de l'année précédente (financeur × dispositif × thématique). "
                "Saisissez le montant de l'année ; plusieurs lignes d'un même dispositif s'additionnent.",
    ),
}

# Every schema column is in its sheet, in schema order, before any help column.
for _name, _spec in SPECS.items():
    assert [c.key for c in _spec.columns if not c.helper] == SCHEMAS[_name].names, _name
