"""Social impact of the convention (chapter of every annual report) and its final evaluation ("bilan").

Used inside `notebooks/impact_social.ipynb` and `notebooks/bilan.ipynb` (written by `pipeline.impact.notebooks`)::

    from pipeline import impact
    d = impact.contexte(territoire, annee, data_dir)
    impact.modeles_logiques(d);

Every helper displays one Markdown output (`text/markdown`, through `pipeline.report.sortie`) and returns it.
`tableau_evolution(source, annee)` also accepts the annual report set's `Bilan` or a plain report `Contexte`.
"""

from pipeline.impact.chapitre import introduction, introduction_bilan, limites, synthese_bilan
from pipeline.impact.cibles import Attainment, Lieux, attainment
from pipeline.impact.cibles_tableau import tableau_cibles
from pipeline.impact.donnees import Donnees, charger as contexte
from pipeline.impact.enseignements import enseignements
from pipeline.impact.equite import equite_sociale
from pipeline.impact.evolution import tableau_evolution, tableau_evolution_periode
from pipeline.impact.feuilles import realisation_feuilles_de_route
from pipeline.impact.investissement import investissement
from pipeline.impact.modele import Maillon, modele_logique, modeles_logiques
from pipeline.impact.questions import questions_evaluatives

__all__ = ["Attainment", "Donnees", "Lieux", "Maillon", "attainment", "contexte", "enseignements", "equite_sociale",
           "introduction", "introduction_bilan", "investissement", "limites", "modele_logique", "modeles_logiques",
           "questions_evaluatives", "realisation_feuilles_de_route", "synthese_bilan", "tableau_cibles",
           "tableau_evolution", "tableau_evolution_periode"]
