"""The final evaluation built by the real `ctg bilan` executable on a copy of the 2021-2025 sample: HTML and A4 PDF
published atomically with a manifest; a bad evaluators' sheet stops with exit code 2 and keeps the published set."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from html import unescape
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, run_ctg
from pipeline.bilan import nom_dossier
from pipeline.config import DataLayout

TERRITOIRE = "200040459"


def empreintes(dossier: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(dossier.iterdir())}


def pages_pdf(chemin: Path) -> list[tuple[float, float]]:
    boites = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", chemin.read_bytes())
    return [(float(w), float(h)) for w, h in boites]


@pytest.fixture(scope="module")
def bilan(tmp_path_factory):
    """`ctg bilan` on a private copy of the sample (raw data only: the command validates and prepares itself)."""
    base = tmp_path_factory.mktemp("bilan")
    data, reports = base / "data", base / "reports"
    shutil.copytree(ROOT / "data" / "raw", data / "raw")
    proc = run_ctg("bilan", "--data-dir", str(data), "--reports-dir", str(reports), check=True)
    return data, reports / TERRITOIRE / "bilan_2021_2025", proc


@pytest.mark.e2e
def test_bilan_publishes_html_and_a4_pdf_with_a_manifest(bilan):
    _, dossier, proc = bilan
    assert "Bilan publié" in proc.stdout and str(dossier) in proc.stdout.replace("\n", "")
    assert sorted(p.name for p in dossier.iterdir()) == ["bilan_2021_2025.html", "bilan_2021_2025.pdf",
                                                          "manifest.json"]
    pages = pages_pdf(dossier / "bilan_2021_2025.pdf")
    assert len(pages) > 10 and all(abs(w - 595.28) < 1 and abs(h - 841.89) < 1 for w, h in pages)
    manifeste = json.loads((dossier / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifeste["sorties"]) == {"bilan_2021_2025.html", "bilan_2021_2025.pdf"}
    assert "data/raw/territoires/200040459/suivi/bilan/enseignements.csv" in manifeste["entrees"]
    assert not [p for p in dossier.parent.iterdir() if p.name.startswith(".staging-")]


@pytest.mark.e2e
def test_bilan_answers_the_evaluation_questions_with_the_data(bilan):
    _, dossier, _ = bilan
    html = (dossier / "bilan_2021_2025.html").read_text(encoding="utf-8")
    assert re.search(r'<html[^>]*lang="fr"', html) and not re.search(r'(src|href)="https?://', html)
    texte = " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).replace("’", "'").split(" "))
    texte = re.sub(r"[ \n]+", " ", texte)
    for attendu in ("Les cibles chiffrées de la convention", "Pertinence", "Efficacité", "Adéquation des moyens",
                    "Durabilité", "Réalisation des feuilles de route", "Investissement social",
                    "Évolution de tous les indicateurs", "Constats automatiques", "[Exemple fictif]",
                    "euros courants", "Ce que les données ne montrent pas"):
        assert attendu in texte, attendu
    assert "11\u00a0cibles chiffrées" in texte  # every quantified target of the referential is judged
    assert "Données d'illustration" in texte
    assert "def " not in texte and "import " not in texte


@pytest.mark.e2e
def test_a_bad_evaluators_sheet_stops_with_exit_2_and_keeps_the_published_bilan(bilan):
    data, dossier, _ = bilan
    avant = empreintes(dossier)
    feuille = DataLayout(data, TERRITOIRE).territoire_dir / "suivi" / "bilan" / "enseignements.csv"
    feuille.write_text("thematique;type;texte\npetite_enfance;idée;Un texte.\n", encoding="utf-8")
    proc = run_ctg("bilan", "--data-dir", str(data), "--reports-dir", str(dossier.parent.parent),
                   "--sans-preparation")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "enseignements.csv, ligne 2, colonne « type » : type inconnu" in " ".join(proc.stderr.split())
    assert empreintes(dossier) == avant


def test_dvc_declares_the_bilan_stage_on_the_prepared_tables():
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    etape = stages["bilan"]
    assert etape["cmd"].startswith("ctg bilan ") and "--sans-preparation" in etape["cmd"]
    assert "data/processed/${territoire}" in etape["deps"] and "notebooks/bilan.ipynb" in etape["deps"]
    assert {"impact", "bilan", "rendu"} <= set(etape["params"])
    sorties = [next(iter(o)) for o in etape["outs"]]
    assert f"reports/${{territoire}}/{nom_dossier(DataLayout(ROOT / 'data'))}" in sorties
