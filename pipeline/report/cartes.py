"""Choropleth of the territory's communes for a commune-level indicator (matplotlib polygons, no geopandas)."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from pipeline.report import fmt, memo, textes
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
    image = memo.dessin(ctx.figures, _dessin, formes(ctx, mesures, bornes, couleurs), reperes(ctx),
                        legende_carte(mesures, bornes, couleurs, d), info["unite"] or None,
                        couper(f"{info['libelle']}, {annee}", 70), provenance(sources, markdown=False))
    legende = tracer(f"{texte(info['libelle'])} par commune, {annee}.", sources,
                     *lignes_indicateurs(ctx, [ind], ("commune",), [annee]))
    md = figure(image, legende, description(ctx, ind, annee, mesures))
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


def formes(ctx: Contexte, mesures: dict[str, Mesure | None], bornes: list[tuple[float, float]],
           couleurs: list) -> list[tuple[list, tuple, str]]:
    """Every commune polygon as (outer ring, fill colour, hatch): filled by class, secret grey and hatched, no value
    white."""
    resultat = []
    for feature in ctx.geometries["features"]:
        m = mesures.get(feature["properties"]["code_insee"])
        if m is not None and m.secret:
            face = COULEUR_SECRET
        elif m is not None and m.valeur is not None:
            face = couleurs[classe(m.valeur, bornes)]
        else:
            face = COULEUR_MANQUANTE
        hachure = "///" if m is not None and m.secret else ""
        resultat += [(anneau, _couleur(face), hachure) for anneau in polygones(feature["geometry"])]
    return resultat


def reperes(ctx: Contexte) -> list[tuple[str, float, float]]:
    """The main town(s)' names and where to write them on the map (centre of their largest ring)."""
    resultat = []
    for feature in ctx.geometries["features"]:
        code = feature["properties"]["code_insee"]
        if code in ctx.villes_centres:
            anneau = max(polygones(feature["geometry"]), key=len)
            resultat.append((ctx.nom_commune(code), float(np.mean([p[0] for p in anneau])),
                             float(np.mean([p[1] for p in anneau]))))
    return resultat


def legende_carte(mesures: dict[str, Mesure | None], bornes: list[tuple[float, float]], couleurs: list,
                  d: int) -> list[tuple[tuple, str, str]]:
    """The legend's entries as (colour, hatch, label): one per class, then 's' and 'n.d.' when the map shows them."""
    entrees = [(_couleur(couleur), "", etiquette(bas, haut, d)) for couleur, (bas, haut) in zip(couleurs, bornes)]
    if any(m and m.secret for m in mesures.values()):
        entrees.append((_couleur(COULEUR_SECRET), "///", textes.LEGENDE_SECRET))
    if any(m is None for m in mesures.values()):
        entrees.append((_couleur(COULEUR_MANQUANTE), "", textes.LEGENDE_NON_DISPONIBLE))
    return entrees


def _couleur(couleur) -> tuple[float, ...]:
    """A colour as plain RGBA floats (the same colour, in a form that keys the figure: pipeline.report.memo)."""
    return tuple(float(c) for c in to_rgba(couleur))


def _dessin(formes: list[tuple[list, tuple, str]], reperes: list[tuple[str, float, float]],
            legende: list[tuple[tuple, str, str]], titre_legende: str | None, titre: str, note: str) -> Figure:
    """The map of `carte`: commune polygons (one collection per hatch pattern), the main towns' names, the legend on
    the right."""
    with style():
        fig, axe = nouvelle_figure(6.2, note)
        for hachure in sorted({h for _, _, h in formes}):  # a PolyCollection has one hatch pattern
            choix = [(anneau, face) for anneau, face, h in formes if h == hachure]
            axe.add_collection(PolyCollection([a for a, _ in choix], facecolors=[f for _, f in choix],
                                              edgecolors="#555555", linewidths=0.6, hatch=hachure or None))
        for nom, x, y in reperes:  # landmark: the main town's name on the map
            axe.annotate(nom, (x, y), ha="center", va="center", fontsize=8,
                         bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.8, "linewidth": 0})
        axe.autoscale_view()
        latitude = np.mean([pt[1] for anneau, _, _ in formes for pt in anneau])
        axe.set_aspect(1 / math.cos(math.radians(latitude)))
        axe.set_axis_off()
        axe.legend(handles=[Patch(facecolor=couleur, hatch=hachure or None, edgecolor="#555555", label=texte_)
                            for couleur, hachure, texte_ in legende],
                   title=titre_legende, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, title_fontsize=8)
        axe.set_title(titre)
    return fig


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
