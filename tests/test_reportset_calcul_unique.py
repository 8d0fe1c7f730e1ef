"""What the report set computes once: the dashboard shared by the synthesis, the COPIL pages and the methodology;
the COPIL page at another font size without recomputing it."""

from __future__ import annotations

import pytest

from fixtures.report import jeu
from pipeline.config import DataLayout, load_params
from pipeline.reportset import copil, synthese
from pipeline.reportset.donnees import charger


@pytest.fixture(scope="module")
def bilan(tmp_path_factory):
    return charger(DataLayout(jeu.construire(tmp_path_factory.mktemp("calcul"))), load_params(), 2024,
                   ["petite_enfance", "enfance"])


def test_tableau_de_bord_calcule_une_fois_par_bilan(bilan, monkeypatch):
    appels = []
    vrai = synthese.calculer_tableau_de_bord
    monkeypatch.setattr(synthese, "calculer_tableau_de_bord", lambda b: appels.append(b) or vrai(b))
    frais = charger(bilan.layout, bilan.params, bilan.annee, bilan.thematiques)
    tdb = synthese.tableau_de_bord(frais)
    synthese.synthese(synthese.tableau_de_bord(frais))
    copil.copil(frais)
    assert appels == [frais] and synthese.tableau_de_bord(frais) is tdb
    # the same figures as a computation from scratch
    neuf = vrai(charger(bilan.layout, bilan.params, bilan.annee, bilan.thematiques))
    assert {th: [(e.indicateur, e.feu, e.motif) for e in evs] for th, evs in tdb.evaluations.items()} == {
        th: [(e.indicateur, e.feu, e.motif) for e in evs] for th, evs in neuf.evaluations.items()}
    assert [a.constat for a in tdb.alertes] == [a.constat for a in neuf.alertes]


def test_un_semestre_a_son_propre_tableau_de_bord(bilan):
    s1 = copil.bilan_de_la_periode(bilan, "S1")
    assert s1 is copil.bilan_de_la_periode(bilan, "S1") and s1 is not bilan
    assert synthese.tableau_de_bord(s1) is not synthese.tableau_de_bord(bilan)
    assert bilan.transverse() is bilan.transverse() and s1.transverse() is not bilan.transverse()


@pytest.mark.parametrize("taille", copil.TAILLES[1:])
def test_copil_a_une_autre_taille_sans_recalcul(bilan, taille):
    assert copil.a_la_taille(copil.copil(bilan), taille) == copil.copil(bilan, None, taille)
    assert copil.a_la_taille(copil.copil(bilan, "S1"), taille) == copil.copil(bilan, "S1", taille)
