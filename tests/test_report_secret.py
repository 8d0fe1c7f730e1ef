"""Statistical secrecy in the report helpers: a secret value is never printed nor used in a computation."""

from __future__ import annotations

import dataclasses
import re

import pytest
from matplotlib.colors import to_hex

from fixtures.report import jeu
from pipeline.report import cartes as module_carte
from pipeline.report import chiffres_cles, equite, evolution, recit, sortie
from pipeline.report.cartes import carte, legende_carte
from pipeline.report.tendance import ecart, tendance

NBSP = "\xa0"


@pytest.fixture(autouse=True)
def sans_affichage(monkeypatch):
    monkeypatch.setattr(sortie, "display", lambda *a, **k: None)


@pytest.fixture(scope="module")
def ctx_secret(tmp_path_factory):
    """Fixture data where places_eaje is secret for the territory in 2024 and for Montélimar in 2024, with the
    number still present in the `valeur` column (a leak the helpers must not print)."""
    ctx = jeu.contexte_fixture(jeu.construire(tmp_path_factory.mktemp("secret")), "petite_enfance", 2024)
    t = ctx.indicateurs.copy()
    fuite = (t["indicateur"] == "places_eaje") & (t["annee"] == 2024) & t["code_geo"].isin(["200040459", "26198"])
    t.loc[fuite, "secret"] = True
    return dataclasses.replace(ctx, indicateurs=t)


def sans_images(md: str) -> str:
    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", md)


def test_valeur_secrete_jamais_lue(ctx_secret):
    m = ctx_secret.mesure("places_eaje", 2024)
    assert m.secret and m.valeur is None
    assert ctx_secret.mesure("places_eaje", 2023).valeur == 317


def test_aucun_helper_n_imprime_une_valeur_secrete(ctx_secret):
    textes = [sans_images(f(ctx_secret)) for f in (chiffres_cles, evolution, carte, equite, recit)]
    for md in textes:
        assert "329" not in md and "250" not in md
    tableau = textes[0]
    ligne = next(l for l in tableau.splitlines() if l.startswith("| Places en accueil collectif"))
    assert [c.strip() for c in ligne.strip("|").split("|")][1:6] == ["300", "317", "s", "≥ 361 en 2025", "n.d."]
    assert "*s : valeur soumise au secret statistique (moins de 5).*" in tableau


def test_recit_dit_le_secret(ctx_secret):
    md = recit(ctx_secret)
    assert "- La valeur « Places en accueil collectif » de 2024 est soumise au secret statistique.\n" in md
    assert "+9,7" not in md  # no change computed from the secret value


def test_pas_d_evolution_depuis_une_valeur_secrete(ctx_secret):
    reference, secrete = ctx_secret.mesure("places_eaje", 2021), ctx_secret.mesure("places_eaje", 2024)
    assert ecart(ctx_secret, "places_eaje", reference, secrete) is None
    assert tendance(ctx_secret, "places_eaje", reference, secrete) is None
    assert ecart(ctx_secret, "places_eaje", reference, ctx_secret.mesure("places_eaje", 2023)) == f"+5,7{NBSP}%"


def test_carte_hachure_les_communes_secretes(ctx_secret):
    mesures = {c: ctx_secret.mesure("places_eaje", 2024, "commune", c) for c in ctx_secret.communes["code_insee"]}
    bornes = module_carte.classes([m.valeur for m in mesures.values() if m and m.valeur is not None])
    couleurs = module_carte.degrade(len(bornes))
    legende = legende_carte(mesures, bornes, couleurs, 0)
    fig = module_carte._dessin(module_carte.formes(ctx_secret, mesures, bornes, couleurs), [], legende, None, "", "")
    (axe,) = fig.axes
    hachurees = [c for c in axe.collections if c.get_hatch()]
    assert len(hachurees) == 1 and len(hachurees[0].get_paths()) == 1  # Montélimar only
    assert to_hex(hachurees[0].get_facecolor()[0]) == module_carte.COULEUR_SECRET.lower()
    assert bornes[0] == (0, 0) and max(haut for _, haut in bornes) == 55  # bounds ignore the secret value
    etiquettes = [p.get_label() for p in axe.get_legend().get_patches()]
    assert "s : secret statistique" in etiquettes


def test_seuil_du_secret_lu_dans_les_parametres(ctx_secret):
    ctx = dataclasses.replace(ctx_secret, seuil_secret=11)
    assert "(moins de 11)" in chiffres_cles(ctx)
