"""French texts of the workbooks: title rows, the « Instructions » sheet and the « Vocabulaire » lists."""

from __future__ import annotations

import pandas as pd

from pipeline.inputs.vocabulary import Vocabulary
from pipeline.referential import Referentiel
from pipeline.territory import qpv_list
from pipeline.workbooks.specs import SheetSpec
from pipeline.workbooks.xlsx import HEADER_ROW, VocabList


def titles(spec: SheetSpec, annee: int, territoire: str) -> list[str]:
    """The two title rows above the header (one cell each: the readers skip them)."""
    return [f"{spec.title} — année {annee}",
            f"{territoire} — remplissez les cellules jaunes ; mode d'emploi dans l'onglet « Instructions »"]


def vocabulary_lists(vocab: Vocabulary, referentiel: Referentiel, communes: pd.DataFrame) -> dict[str, VocabList]:
    """Every dropdown list: vocabulary labels (the readers accept labels and codes), communes, QPV, thématiques."""

    def labels(kind: str, title: str, note: str | None = None) -> VocabList:
        codes = vocab.codes(kind)
        notes = [str(vocab.attribute(kind, code, note, "")) for code in codes] if note else None
        return VocabList(title, [vocab.label(kind, code) for code in codes], notes)

    thematique_labels = {t.id: t.libelle for t in referentiel.thematiques}
    codes = [*thematique_labels, "transverse"]  # the referential's thématiques (it may add one to the six)
    qpvs = sorted({q for cell in communes["qpv"] for q in qpv_list(cell)})
    return {
        "statuts": labels("statuts", "Statuts des actions"),
        "types_structure": labels("types_structure", "Types de structure", "thematique"),
        "communes": VocabList("Code INSEE", list(communes["code_insee"].astype(str)), list(communes["commune"].astype(str))),
        "qpv": VocabList("Quartiers prioritaires (QPV)", qpvs),
        "indicateurs_activite": labels("indicateurs_activite", "Indicateurs d'activité", "unite"),
        "financeurs": labels("financeurs", "Financeurs"),
        "dispositifs": labels("dispositifs", "Dispositifs", "thematique"),
        "thematiques": VocabList("Thématiques", codes,
                                 [thematique_labels.get(t, "Transverse (plusieurs thématiques)") for t in codes]),
    }


def used_lists(spec: SheetSpec, lists: dict[str, VocabList]) -> dict[str, VocabList]:
    """The lists a sheet's dropdowns use, in column order."""
    names = [c.check.removeprefix("list:") for c in spec.columns if c.check.startswith("list:")]
    return {name: lists[name] for name in names}


def instructions(spec: SheetSpec, annee: int, siren: str, source_year: int | None) -> list[tuple[str, str]]:
    """Lines (heading, text) of the « Instructions » sheet."""
    prefilled = (f"Les lignes sont préremplies d'après le suivi {source_year}." if source_year
                 else "Aucune année précédente n'a été trouvée : le tableau est à remplir entièrement.")
    remove = ("Feuille protégée sans mot de passe : Révision › Ôter la protection de la feuille, supprimez la "
              "ligne, puis Révision › Protéger la feuille.")
    lines = [
        ("Ce classeur", f"{spec.purpose} {prefilled}"),
        ("Où l'enregistrer", f"Au format .xlsx, sous le même nom ({spec.name}.xlsx), dans le dossier "
                             f"raw/territoires/{siren}/suivi/{annee}/ du dossier des données (data/ par défaut). "
                             "Pas besoin d'export CSV : le pipeline lit directement ce classeur."),
        ("Feuille lue", f"Seule la première feuille, « {spec.name} », est lue. Ne la renommez pas, ne la déplacez pas "
                        f"et ne modifiez pas sa ligne d'en-tête (ligne {HEADER_ROW}) ; les lignes de titre au-dessus "
                        "sont ignorées."),
        ("Couleurs", "Cellules jaunes : à remplir ou à corriger. Cellules grises : reprises du référentiel ou de "
                     "l'année précédente, protégées. Les colonnes « (aide) » sont des rappels que le pipeline ne lit "
                     "pas."),
    ]
    if spec.free_rows:
        lines.append(("Ajouter une ligne", "Utilisez les lignes libres (jaunes) sous le tableau."))
        lines.append(("Supprimer une ligne", "Une ligne sans objet cette année doit être supprimée : une ligne "
                                             f"sans valeur obligatoire est refusée. {remove}"))
    else:
        lines.append(("Lignes", "Toutes les actions du référentiel sont listées : ne supprimez pas de ligne. Une "
                                "action absente de la feuille serait considérée comme « non suivie »."))
    lines += [(f"colonne « {c.key} »", c.note) for c in spec.columns]
    lines += [
        ("Valeurs acceptées", "Les listes déroulantes reprennent l'onglet « Vocabulaire » (metadata/vocabulaire.yaml). "
                              "Le code (« realisee ») et le libellé (« Réalisée ») sont acceptés, sans tenir compte "
                              "des majuscules ni des accents."),
        ("Nombres et dates", "Nombres avec virgule ou point décimal (1234,5) ; dates au format JJ/MM/AAAA."),
        ("Vérifier", f"ctg statut --annee {annee} : liste de ce qui manque encore (fichiers, statuts, dates, valeurs, "
                     "montants). ctg validate : contrôle des valeurs ; chaque erreur donne le fichier, la feuille, la "
                     "ligne et la colonne telles qu'Excel les affiche."),
        ("Produire le rapport", f"ctg run --annee {annee} : les rapports sont publiés dans reports/{siren}/{annee}/ "
                                "(index.html, rapport PDF, un rapport par thématique)."),
    ]
    return lines
