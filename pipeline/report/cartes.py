"""Choropleth of the territory's communes for a commune-level indicator (matplotlib polygons, no geopandas)."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.patches import Patch

from pipeline.report import fmt, textes
from pipeline.report.contexte import Contexte, Mesure
from pipeline.report.graphiques import couper, degrade, nouvelle_figure, style
from pipeline.report.sortie import afficher, figure, lignes_indicateurs, provenance, texte, tracer

CLASSES = 5  # at most; about one class per three communes with a value
COULEUR_SECRET = "#BBBBBB"
COULEUR_MANQUANTE = "#FFFFFF"


def carte(ctx: Contexte, indicateur: str | None = None) -> str:
    """Map of one indicator by commune, for its latest year with commune values (default indicator: see
    `indicateur_communal`). Secret communes are grey and hatched ('s'), communes without value white."""
    ind = indicateur or indicateur_communal(ctx)
    annee = annee_communale(ctx, ind) if ind else None
    if annee is None:
        return afficher(textes.SANS_CARTE + "\n")
    mesures = {code: ctx.mesure(ind, annee, "commune", code) for code in ctx.communes["code_insee"]}
    info, d = ctx.info(ind), ctx.decimales(ind)
    bornes = classes([m.valeur for m in mesures.values() if m and m.valeur is not None])
    couleurs = degrade(len(bornes))
    sources = [(m.source, m.millesime) for m in mesures.values() if m]
    with style():
        fig, axe = nouvelle_figure(6.2, provenance(sources, markdown=False))
        dessiner(ctx, axe, mesures, bornes, couleurs)
        axe.legend(handles=legende_carte(ctx, mesures, bornes, couleurs, d), title=info["unite"] or None,
                   loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, title_fontsize=8)
        axe.set_title(couper(f"{info['libelle']}, {annee}", 70))
    legende = tracer(f"{texte(info['libelle'])} par commune, {annee}.", sources,
                     *lignes_indicateurs(ctx, [ind], ("commune",), [annee]))
    md = figure(fig, legende, description(ctx, ind, annee, mesures))
    if any(m and m.secret for m in mesures.values()):
        md += "\n*" + textes.NOTE_SECRET.format(seuil=ctx.seuil_secret) + "*\n"
    return afficher(md)


def indicateur_communal(ctx: Contexte) -> str | None:
    """The indicator to map: a main indicator published for at least half of the communes, otherwise the
    indicator of the thématique published for the most communes (catalogue order breaks ties)."""
    couverture = {i: communes_publiees(ctx, i) for i in ctx.indicateurs_du_theme()}
    couverture = {i: n for i, n in couverture.items() if n}
    if not couverture:
        return None
    principaux = [i for i, n in couverture.items() if ctx.info(i)["principal"] and 2 * n >= len(ctx.communes)]
    return principaux[0] if principaux else max(couverture, key=couverture.get)


def communes_publiees(ctx: Contexte, indicateur: str) -> int:
    """Number of communes with a value (or a secret) in the indicator's latest commune year."""
    annee = annee_communale(ctx, indicateur)
    if annee is None:
        return 0
    lignes = ctx.lignes(indicateur, "commune")
    lignes = lignes[(lignes["annee"] == annee) & (lignes["valeur"].notna() | lignes["secret"].astype(bool))]
    return lignes["code_geo"].nunique()


def annee_communale(ctx: Contexte, indicateur: str) -> int | None:
    """Latest year (up to N) with a commune value or secret."""
    lignes = ctx.lignes(indicateur, "commune")
    lignes = lignes[lignes["valeur"].notna() | lignes["secret"].astype(bool)]
    return int(lignes["annee"].max()) if len(lignes) else None


def classes(valeurs: list[float]) -> list[tuple[float, float]]:
    """Classes (low, high): zero gets a class of its own when other values exist (communes without any
    structure would otherwise swallow the scale), then quantile classes of the other values (at most CLASSES,
    fewer when values repeat)."""
    autres = [v for v in valeurs if v != 0]
    zero = [(0.0, 0.0)] if len(autres) < len(valeurs) else []
    if not autres:
        return zero
    nombre = max(1, min(CLASSES, len(autres) // 3))
    bornes = np.unique(np.quantile(autres, np.linspace(0, 1, nombre + 1)))
    if len(bornes) == 1:
        return zero + [(bornes[0], bornes[0])]
    return zero + list(zip(bornes[:-1], bornes[1:]))


def classe(valeur: float, bornes: list[tuple[float, float]]) -> int:
    """Index of the first class holding the value."""
    return next(i for i, (bas, haut) in enumerate(bornes) if bas <= valeur <= haut)


def etiquette(bas: float, haut: float, d: int) -> str:
    bas_, haut_ = fmt.nombre(bas, d), fmt.nombre(haut, d)
    return bas_ if bas_ == haut_ else f"{bas_} – {haut_}"


def polygones(geometrie: dict) -> list[list]:
    """Outer rings of a GeoJSON Polygon or MultiPolygon (holes are not drawn)."""
    if geometrie["type"] == "Polygon":
        return [geometrie["coordinates"][0]]
    return [poly[0] for poly in geometrie["coordinates"]]


def dessiner(ctx: Contexte, axe, mesures: dict[str, Mesure | None], bornes: list[tuple[float, float]],
             couleurs: list) -> None:
    """Commune polygons filled by class (secret: grey hatched, no value: white) and the main town's name."""
    formes, faces, hachures = [], [], []
    for feature in ctx.geometries["features"]:
        m = mesures.get(feature["properties"]["code_insee"])
        for anneau in polygones(feature["geometry"]):
            formes.append(anneau)
            if m is not None and m.secret:
                faces.append(COULEUR_SECRET)
            elif m is not None and m.valeur is not None:
                faces.append(couleurs[classe(m.valeur, bornes)])
            else:
                faces.append(COULEUR_MANQUANTE)
            hachures.append("///" if m is not None and m.secret else "")
    for hachure in set(hachures):  # a PolyCollection has one hatch pattern
        choix = [i for i, h in enumerate(hachures) if h == hachure]
        axe.add_collection(PolyCollection([formes[i] for i in choix], facecolors=[faces[i] for i in choix],
                                          edgecolors="#555555", linewidths=0.6, hatch=hachure or None))
    for feature in ctx.geometries["features"]:
        code = feature["properties"]["code_insee"]
        if code in ctx.villes_centres:  # landmark: the main town's name on the map
            anneau = max(polygones(feature["geometry"]), key=len)
            x, y = np.mean([p[0] for p in anneau]), np.mean([p[1] for p in anneau])
            axe.annotate(ctx.nom_commune(code), (x, y), ha="center", va="center", fontsize=8,
                         bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.8, "linewidth": 0})
    axe.autoscale_view()
    latitude = np.mean([pt[1] for f in formes for pt in f])
    axe.set_aspect(1 / math.cos(math.radians(latitude)))
    axe.set_axis_off()


def legende_carte(ctx: Contexte, mesures: dict[str, Mesure | None], bornes: list[tuple[float, float]],
                  couleurs: list, d: int) -> list[Patch]:
    """One entry per class, then 's' and 'n.d.' when the map shows them."""
    poignees = [Patch(facecolor=couleur, edgecolor="#555555", label=etiquette(bas, haut, d))
                for couleur, (bas, haut) in zip(couleurs, bornes)]
    if any(m and m.secret for m in mesures.values()):
        poignees.append(Patch(facecolor=COULEUR_SECRET, hatch="///", edgecolor="#555555",
                              label=textes.LEGENDE_SECRET))
    if any(m is None for m in mesures.values()):
        poignees.append(Patch(facecolor=COULEUR_MANQUANTE, edgecolor="#555555", label=textes.LEGENDE_NON_DISPONIBLE))
    return poignees


def description(ctx: Contexte, indicateur: str, annee: int, mesures: dict[str, Mesure | None]) -> str:
    """Alt text: what is mapped, the lowest and highest communes, secret and missing counts."""
    info, d = ctx.info(indicateur), ctx.decimales(indicateur)
    connues = sorted((m.valeur, code) for code, m in mesures.items() if m and m.valeur is not None)
    phrases = [f"Carte des {len(mesures)} communes de {ctx.libelle_territoire} : {info['libelle']} en {annee}."]
    if len(connues) == 1:
        valeur, code = connues[0]
        phrases.append(f"Seule valeur publiée : {fmt.avec_unite(valeur, info['unite'], d)} ({ctx.nom_commune(code)}).")
    elif connues:
        (vmin, cmin), (vmax, cmax) = connues[0], connues[-1]
        phrases.append(f"Valeur la plus basse : {fmt.avec_unite(vmin, info['unite'], d)} ({ctx.nom_commune(cmin)}) ; "
                       f"la plus haute : {fmt.avec_unite(vmax, info['unite'], d)} ({ctx.nom_commune(cmax)}).")
    secrets = sum(1 for m in mesures.values() if m and m.secret)
    manquantes = sum(1 for m in mesures.values() if m is None)
    if secrets:
        phrases.append(f"{fmt.compte(secrets, 'commune', 'communes')} sous secret statistique.")
    if manquantes:
        phrases.append(f"{fmt.compte(manquantes, 'commune', 'communes')} sans valeur.")
    return " ".join(phrases)
