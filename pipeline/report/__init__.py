"""Helpers used inside the thematic notebooks: each displays one Markdown output and returns it.

Typical notebook::

    from pipeline.report import *
    ctx = contexte(territoire, annee, data_dir, thematique)
    chiffres_cles(ctx);
"""

from pipeline.report.cartes import carte
from pipeline.report.chargement import contexte
from pipeline.report.chiffres import chiffres_cles
from pipeline.report.contexte import Contexte
from pipeline.report.comparaisons import equite
from pipeline.report.courbes import evolution
from pipeline.report.feuille import feuille_de_route
from pipeline.report.intro import bandeau, introduction
from pipeline.report.narration import recit

__all__ = ["Contexte", "bandeau", "carte", "chiffres_cles", "contexte", "equite", "evolution", "feuille_de_route",
           "introduction", "recit"]
