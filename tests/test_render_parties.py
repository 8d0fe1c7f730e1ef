"""A PDF given by parts (`Document.parties`, the annual report's chapters): converted part by part, each part's Typst
kept by content, so that a rebuilt report converts only its changed parts — and the PDF is the one the whole body
gives (same pages, same text, same pixels)."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import shutil
import subprocess

import pytest

from pipeline.render import Document, RenderError
from pipeline.render import parties as parties_module
from pipeline.render.pandoc_typst import PandocTypstEngine

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==")
URI = "data:image/png;base64," + base64.b64encode(PNG).decode()
SAUT = "```{=typst}\n#pagebreak(weak: true)\n```\n\n"
PARTIES = (
    f"{SAUT}# Synthèse\n\n## Chiffres clés\n\nEn 2025 : 72 actions réalisées sur 122 !\n",
    (f"{SAUT}# Petite enfance\n\n## Chiffres clés\n\n| Indicateur | 2025 |\n|:---|---:|\n| Places | 324 |\n\n"
     f"Table: Places en accueil collectif.\n\n![Taux de couverture.]({URI}){{alt=\"Courbe : de 58 à 59,2.\"}}\n"),
    f"{SAUT}# Méthodologie\n\n::: {{.encadre}}\nDonnées « d'illustration ».\n:::\n\n```python\nprint('retiré')\n```\n",
)
PDFTOTEXT = shutil.which("pdftotext")
PDFTOPPM = shutil.which("pdftoppm")


def document(parties: tuple[str, ...]) -> Document:
    return Document(title="Rapport 2025", date=dt.date(2025, 12, 31), body="\n\n".join(parties), stem="rapport",
                    parties=parties)


@pytest.fixture
def compte(monkeypatch):
    """The number of parts of each pandoc run converting parts."""
    converties = []
    original = parties_module.convertir

    def convertir(textes, *args, **kwargs):
        converties.append(len(textes))
        return original(textes, *args, **kwargs)

    monkeypatch.setattr(parties_module, "convertir", convertir)
    return converties


def test_the_body_must_be_the_parts_joined():
    with pytest.raises(RenderError, match="suite de ses parties"):
        Document(title="R", date=dt.date(2025, 12, 31), body="autre chose", parties=PARTIES)


@pytest.mark.skipif(not (PDFTOTEXT and PDFTOPPM), reason="poppler-utils absent")
def test_parts_give_the_pdf_of_the_whole_body(tmp_path):
    doc = document(PARTIES)
    (entier,) = PandocTypstEngine().render(dataclasses.replace(doc, parties=()), tmp_path / "entier", ("pdf",))
    (par_parties,) = PandocTypstEngine(tmp_path / "cache").render(doc, tmp_path / "parties", ("pdf",))
    texte = [subprocess.run(["pdftotext", "-layout", str(p), "-"], capture_output=True, text=True, check=True).stdout
             for p in (entier, par_parties)]
    assert texte[0] == texte[1]
    assert "Sommaire" in texte[1] and "Places en accueil collectif" in texte[1] and "retiré" not in texte[1]
    kept = "".join(f.read_text(encoding="utf-8") for f in (tmp_path / "cache").glob("*.typ"))
    assert "sur 122~!" in kept and "«~d'illustration~»" in kept.replace("\u2019", "'")  # French spacing still done
    for sortie in (entier, par_parties):
        subprocess.run(["pdftoppm", "-r", "30", "-png", str(sortie), str(sortie.with_suffix(""))], check=True)
    pages = sorted((tmp_path / "entier").glob("*.png"))
    assert len(pages) >= 4  # cover, contents, then each part on its own page
    for page in pages:
        assert page.read_bytes() == (tmp_path / "parties" / page.name).read_bytes(), page.name


def test_only_the_changed_part_is_converted_again(tmp_path, compte, monkeypatch):
    cadres, start = [], parties_module.pandoc.start
    monkeypatch.setattr(parties_module.pandoc, "start",
                        lambda *a: (cadres.append(a[3]) if a[3] == "cadre" else None) or start(*a))
    cache = tmp_path / "cache"
    (premier,) = PandocTypstEngine(cache).render(document(PARTIES), tmp_path / "a", ("pdf",))
    assert compte == [3] and len(list(cache.glob("*.typ"))) == 3 + 1  # the parts and the frame
    (meme,) = PandocTypstEngine(cache).render(document(PARTIES), tmp_path / "b", ("pdf",))
    assert compte == [3] and meme.read_bytes() == premier.read_bytes()  # nothing converted, same bytes
    assert cadres == ["cadre"]  # the frame (cover, contents) was kept too
    change = (PARTIES[0], PARTIES[1].replace("324", "330"), PARTIES[2])
    (autre,) = PandocTypstEngine(cache).render(document(change), tmp_path / "c", ("pdf",))
    assert compte == [3, 1] and autre.read_bytes() != premier.read_bytes()
    (sans_cache,) = PandocTypstEngine().render(document(change), tmp_path / "d", ("pdf",))
    assert sans_cache.read_bytes() == autre.read_bytes()
    retitre = dataclasses.replace(document(change), title="Rapport 2026")
    (nouveau_titre,) = PandocTypstEngine(cache).render(retitre, tmp_path / "e", ("pdf",))
    assert cadres == ["cadre"] * 3  # another title: another frame (the render without cache made one too)
    assert nouveau_titre.read_bytes() == PandocTypstEngine().render(retitre, tmp_path / "f", ("pdf",))[0].read_bytes()


def test_a_part_with_an_image_file_of_its_own_is_not_kept(tmp_path, compte):
    (tmp_path / "logo.png").write_bytes(PNG)
    avec_fichier = f"{SAUT}# Annexe\n\n![Logo.]({tmp_path / 'logo.png'})\n"
    cache = tmp_path / "cache"
    for dossier in ("a", "b"):
        PandocTypstEngine(cache).render(document((PARTIES[0], avec_fichier)), tmp_path / dossier, ("pdf",))
    assert compte == [2, 1]  # the part with the file is converted every time (its image is copied by pandoc)


def test_an_unclosed_fence_does_not_mix_parts(tmp_path):
    ouverte = f"{SAUT}# Annexe\n\n```\ncode sans fin\n"
    (pdf,) = PandocTypstEngine(tmp_path / "cache").render(document((ouverte, PARTIES[0])), tmp_path, ("pdf",))
    if PDFTOTEXT:
        texte = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert "Chiffres clés" in texte


def test_cache_entries_unused_for_a_month_are_removed(tmp_path):
    import os
    import time

    from pipeline.render.cache import dossier_des_parties, purger

    rendus = tmp_path / "rendus"
    vieux, recent = rendus / "ancien", dossier_des_parties(rendus) / "recent.typ"
    (vieux / "x.pdf").parent.mkdir(parents=True)
    (vieux / "x.pdf").write_text("x")
    recent.parent.mkdir(parents=True)
    recent.write_text("y")
    ancienne = dossier_des_parties(rendus) / "ancienne.typ"
    ancienne.write_text("z")
    il_y_a_40_jours = time.time() - 40 * 86400
    for chemin in (vieux, ancienne):
        os.utime(chemin, (il_y_a_40_jours, il_y_a_40_jours))
    for dossier in (rendus, dossier_des_parties(rendus)):  # as a publication does
        purger(dossier)
    assert not vieux.exists() and not ancienne.exists() and recent.exists()
