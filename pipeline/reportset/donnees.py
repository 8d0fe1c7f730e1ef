"""The data of one year's report set (`Bilan`): one `Contexte` per thématique, loaded once.

Every figure of the synthesis, the COPIL page and the residents' letter is read through the accessors of
`pipeline.report.contexte.Contexte` (the same ones the thematic notebooks use): no indicator is recomputed here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TypeVar

from pipeline.config import DataLayout
from pipeline.referential import Referentiel, load_referentiel
from pipeline.report import contexte
from pipeline.report.contexte import Contexte
from pipeline.report.contexte import vue as contexte_vue

TRANSVERSE = "transverse"
T = TypeVar("T")


@dataclass
class Bilan:
    """Everything the report set of `annee` needs, for the thématiques asked."""

    layout: DataLayout
    params: dict
    annee: int
    referentiel: Referentiel
    contextes: dict[str, Contexte]  # thématique id -> Contexte, in report order
    _memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)  # see memo()

    @property
    def thematiques(self) -> list[str]:
        return list(self.contextes)

    @property
    def premier(self) -> Contexte:
        return next(iter(self.contextes.values()))

    @property
    def territoire(self) -> str:
        return self.referentiel.convention.territoire.nom

    @property
    def caf(self) -> str:
        return self.referentiel.convention.caf

    @property
    def illustratif(self) -> bool:
        return self.premier.illustratif

    def libelle(self, thematique: str) -> str:
        return self.contextes[thematique].libelle_thematique if thematique in self.contextes else "Ensemble de la CTG"

    def memo(self, cle, calcul: Callable[[], T]) -> T:
        """`calcul()`, computed once per Bilan and `cle` (a Bilan's tables do not change once loaded; a Bilan made
        by `avec_actions` starts with nothing memorised)."""
        if cle not in self._memo:
            self._memo[cle] = calcul()
        return self._memo[cle]

    def transverse(self) -> Contexte:
        """A Contexte whose thématique is `transverse` (indicators of the whole convention)."""
        return self.memo(TRANSVERSE, lambda: contexte_vue(
            self.premier, thematique=TRANSVERSE, libelle_thematique=self.libelle(TRANSVERSE),
            plan=self.premier.plan.iloc[:0], priorites=[]))

    def avec_actions(self, actions) -> Bilan:
        """The same Bilan with another actions table (e.g. the follow-up known at the end of a semester)."""
        return dataclasses.replace(self, contextes={th: contexte_vue(ctx, actions=actions)
                                                    for th, ctx in self.contextes.items()})


def charger(layout: DataLayout, params: dict, annee: int, thematiques: list[str]) -> Bilan:
    """Load the processed tables once (through `pipeline.report.contexte`), then one Contexte per thématique."""
    if not thematiques:
        raise ValueError("Aucune thématique demandée pour le jeu de rapports.")
    base = contexte(layout.territoire, annee, Path(layout.data_dir), thematiques[0], toutes_thematiques=True)
    ref = load_referentiel(layout.referentiel)
    plan = ref.actions_frame()
    contextes = {}
    for th in thematiques:
        theme = ref.thematique(th)
        contextes[th] = base if th == base.thematique else contexte_vue(
            base, thematique=th, libelle_thematique=theme.libelle, priorites=list(theme.priorites_caf),
            plan=plan[plan["thematique"] == th])
    return Bilan(layout=layout, params=params, annee=int(annee), referentiel=ref, contextes=contextes)
