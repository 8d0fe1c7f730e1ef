"""Figures kept by their inputs (pipeline.report.memo): a figure whose inputs did not change is not drawn again and
gives the same bytes; other inputs, another drawing code, CTG_CACHE=0 or a damaged entry draw it again. The logic
model diagrams of the social impact chapter use it."""

from __future__ import annotations

import dataclasses
import importlib

import pytest
from fixtures.impact import petit
from matplotlib.figure import Figure

from pipeline.impact import modele
from pipeline.report import memo
from pipeline.report.sortie import png, recueillir


def courbe(valeurs):
    fig = Figure(figsize=(3, 2))
    fig.subplots().plot(valeurs)
    return fig


@pytest.fixture
def dessins():
    faits = []

    def dessiner(valeurs):
        faits.append(tuple(valeurs))
        return courbe(valeurs)

    return faits, dessiner


def test_a_figure_is_drawn_once_for_the_same_inputs(tmp_path, dessins):
    faits, dessiner = dessins
    premiere = memo.png(tmp_path, ("courbe", [1, 2, 3]), lambda: dessiner([1, 2, 3]))
    seconde = memo.png(tmp_path, ("courbe", [1, 2, 3]), lambda: dessiner([1, 2, 3]))
    assert faits == [(1, 2, 3)] and premiere == seconde == png(courbe([1, 2, 3]))
    autre = memo.png(tmp_path, ("courbe", [1, 2, 4]), lambda: dessiner([1, 2, 4]))
    assert faits == [(1, 2, 3), (1, 2, 4)] and autre != premiere


def test_a_damaged_entry_or_no_folder_draws_again(tmp_path, dessins):
    faits, dessiner = dessins
    memo.png(tmp_path, "k", lambda: dessiner([1]))
    (entree,) = tmp_path.glob("*.png")
    entree.write_bytes(b"tronque")
    assert memo.png(tmp_path, "k", lambda: dessiner([1])) == png(courbe([1]))
    memo.png(None, "k", lambda: dessiner([1]))
    assert len(faits) == 3


def test_the_drawing_code_is_part_of_the_key(tmp_path, monkeypatch):
    avant = memo.cle(("courbe", [1]))
    monkeypatch.setattr(memo, "_code", lambda: "autre version du code")
    assert memo.cle(("courbe", [1])) != avant


def test_ctg_cache_0_turns_it_off(monkeypatch, tmp_path):
    monkeypatch.setenv("CTG_CACHE", "0")
    assert memo.dossier(tmp_path, "200040459") is None
    monkeypatch.setenv("CTG_CACHE", "1")
    assert memo.dossier(tmp_path, "200040459") == tmp_path / "interim" / "200040459" / "cache" / "figures"


def test_logic_model_diagrams_are_kept_and_give_the_same_markdown(tmp_path, monkeypatch):
    lignes = [petit.ligne("places", 2024, 100), petit.ligne("places", 2025, 111),
              petit.ligne("enfants", 2025, 105), petit.ligne("taux", 2025, 83.5)]
    d = petit.donnees(lignes)
    maillons = modele.modele_logique(d, "petite_enfance")
    sans = modele.schema(d, "petite_enfance", maillons)
    recueillir()
    dessins = []
    original = modele._dessin
    monkeypatch.setattr(modele, "_dessin", lambda *a: dessins.append(1) or original(*a))
    avec = dataclasses.replace(d, figures=tmp_path)
    assert modele.schema(avec, "petite_enfance", maillons) == sans
    assert modele.schema(avec, "petite_enfance", maillons) == sans
    assert len(dessins) == 1  # drawn once, then read back
    traces = recueillir()
    assert len(traces) == 2  # the provenance of each display is still recorded
    autre = modele.modele_logique(petit.donnees(lignes[:-1] + [petit.ligne("taux", 2025, 90.0)]), "petite_enfance")
    modele.schema(avec, "petite_enfance", autre)
    assert len(dessins) == 2


@pytest.fixture(scope="module")
def dossier_donnees(tmp_path_factory):
    from fixtures.report import jeu

    return jeu.construire(tmp_path_factory.mktemp("memo"))


def compter(monkeypatch, module, nom):
    """Count the calls of the drawing function `module.nom`."""
    dessins, original = [], getattr(module, nom)

    def compte(*args):
        dessins.append(args)
        return original(*args)

    compte.__qualname__ = original.__qualname__  # same key as the real one
    monkeypatch.setattr(module, nom, compte)
    return dessins


def test_a_thematique_s_roadmap_chart_and_map_are_kept_and_give_the_same_markdown(dossier_donnees, tmp_path,
                                                                                    monkeypatch):
    from fixtures.report import jeu

    from pipeline.report import cartes, feuille

    sans = jeu.contexte_fixture(dossier_donnees, "petite_enfance", 2024, figures=None)
    attendu = [feuille.graphique(sans, feuille.suivi(sans)), cartes.carte(sans)]
    recueillir()
    barres, carte = compter(monkeypatch, feuille, "_dessin"), compter(monkeypatch, cartes, "_dessin")
    avec = dataclasses.replace(sans, figures=tmp_path)
    for _ in range(2):
        assert [feuille.graphique(avec, feuille.suivi(avec)), cartes.carte(avec)] == attendu
        recueillir()
    assert len(barres) == 1 and len(carte) == 1  # drawn once, then read back
    assert "![" in attendu[0] and "![" in attendu[1]

    # another status of one action: the bars are drawn again, the map (other data) is not
    actions = avec.actions.copy()
    premiere = avec.actions_du_theme().index[0]  # an action of the thématique and year shown
    actions.loc[premiere, "statut"] = "abandonnee" if actions.loc[premiere, "statut"] != "abandonnee" else "realisee"
    change = dataclasses.replace(avec, actions=actions)
    autre = feuille.graphique(change, feuille.suivi(change))
    cartes.carte(change)
    assert len(barres) == 2 and len(carte) == 1 and autre != attendu[0]


def test_the_impact_chapter_s_funding_and_roadmap_charts_are_kept(dossier_donnees, tmp_path, monkeypatch):
    from fixtures.report import jeu

    from pipeline.impact import contexte

    feuilles = importlib.import_module("pipeline.impact.feuilles")
    investissement = importlib.import_module("pipeline.impact.investissement")  # the package exports a function too
    d = contexte(jeu.TERRITOIRE, 2024, dossier_donnees)
    sans = dataclasses.replace(d, figures=None)
    attendu = [investissement.graphique_financeurs(sans), feuilles.realisation_feuilles_de_route(sans)]
    recueillir()
    financeurs = compter(monkeypatch, investissement, "_dessin_financeurs")
    parts = compter(monkeypatch, feuilles, "_dessin")
    avec = dataclasses.replace(d, figures=tmp_path)
    for _ in range(2):
        assert [investissement.graphique_financeurs(avec), feuilles.realisation_feuilles_de_route(avec)] == attendu
        recueillir()
    assert len(financeurs) == 1 and len(parts) == 1
    assert "![" in attendu[0] and "![" in attendu[1]
