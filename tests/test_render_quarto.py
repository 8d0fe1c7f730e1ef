"""The optional « quarto » engine: project files, command line and errors (with a fake `quarto`), and a real
render where Quarto is installed."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from pipeline.render import Document, RenderError, get_engine, notebook_to_markdown
from pipeline.render.quarto import QuartoEngine

FIXTURE = Path(__file__).parent / "fixtures" / "render" / "executed.ipynb"

FAKE_QUARTO = f"""#!{sys.executable}
# Fake `quarto`: records its call, then writes what `quarto render X.qmd --to F` would (or fails on demand).
import json, os, sys
from pathlib import Path
with open(os.environ["FAKE_QUARTO_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps({{"argv": sys.argv[1:], "cwd": os.getcwd()}}) + "\\n")
if os.environ.get("FAKE_QUARTO_FAIL"):
    print("Starting render...", file=sys.stderr)
    print("ERROR: " + os.environ["FAKE_QUARTO_FAIL"], file=sys.stderr)
    sys.exit(1)
stem = Path(sys.argv[2]).stem
extension = {{"html": "html", "typst": "pdf"}}[sys.argv[sys.argv.index("--to") + 1]]
Path(stem + "." + extension).write_text("fake " + extension + " of " + stem)
"""


@pytest.fixture
def fake_quarto(tmp_path, monkeypatch) -> Path:
    """A fake `quarto` first on PATH; returns the file where each call is recorded as one JSON line."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "quarto"
    script.write_text(FAKE_QUARTO, encoding="utf-8")
    script.chmod(0o755)
    calls = tmp_path / "calls.jsonl"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("FAKE_QUARTO_LOG", str(calls))
    return calls


def make_doc(**overrides) -> Document:
    values = dict(title="Jeunesse", subtitle="Rapport 2024", territory="Montélimar Agglomération",
                  date=dt.date(2026, 11, 28), body=notebook_to_markdown(FIXTURE), banner="Données d'illustration",
                  stem="jeunesse")
    return Document(**{**values, **overrides})


def read_calls(calls: Path) -> list[dict]:
    return [json.loads(line) for line in calls.read_text(encoding="utf-8").splitlines()]


def front_matter(qmd: Path) -> tuple[dict, str]:
    _, header, body = qmd.read_text(encoding="utf-8").split("---\n", 2)
    return yaml.safe_load(header), body


def test_missing_quarto_is_a_clear_french_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no quarto
    with pytest.raises(RenderError) as caught:
        get_engine("quarto").render(make_doc(), tmp_path / "out")
    assert str(caught.value) == (
        "Le moteur de rendu « quarto » est demandé (params.yaml : rendu.moteur) mais la commande `quarto` est "
        "introuvable : installez Quarto (https://quarto.org) ou choisissez « pandoc-typst »."
    )
    assert not (tmp_path / "out").exists()


def test_quarto_project_files_command_line_and_outputs(tmp_path, fake_quarto):
    work = tmp_path / "projet"
    paths = QuartoEngine(work_dir=work).render(make_doc(), tmp_path / "out")

    assert paths == [tmp_path / "out" / "jeunesse.html", tmp_path / "out" / "jeunesse.pdf"]
    assert paths[0].read_text() == "fake html of jeunesse" and paths[1].read_text() == "fake pdf of jeunesse"
    calls = read_calls(fake_quarto)
    assert [call["argv"] for call in calls] == [
        ["render", "jeunesse.qmd", "--to", "html"],
        ["render", "jeunesse.qmd", "--to", "typst"],
    ]
    assert {Path(call["cwd"]) for call in calls} == {work}

    config = yaml.safe_load((work / "_quarto.yml").read_text(encoding="utf-8"))
    assert config["lang"] == "fr"
    assert config["format"]["html"]["embed-resources"] is True
    assert config["format"]["typst"]["papersize"] == "a4"
    assert config["format"]["typst"]["toc"] is True and "include-in-header" not in config["format"]["typst"]

    matter, body = front_matter(work / "jeunesse.qmd")
    assert matter["title"] == "Jeunesse" and matter["date"] == "28 novembre 2026"
    assert matter["subtitle"] == "Rapport 2024 · Montélimar Agglomération"
    assert body.lstrip().startswith('::: {.callout-warning appearance="simple"}\n**Données d\'illustration**\n:::')
    assert "Table: Places en accueil collectif" in body and "data:image" not in body


def test_embedded_images_are_written_as_files_for_quarto(tmp_path, fake_quarto):
    work = tmp_path / "projet"
    QuartoEngine(work_dir=work).render(make_doc(), tmp_path / "out", formats=("pdf",))
    _, body = front_matter(work / "jeunesse.qmd")
    links = [line.split("](")[1].split(")")[0] for line in body.splitlines() if line.startswith("![")]
    assert len(links) == 2 and all(link.startswith("media/") and link.endswith(".png") for link in links)
    for link in links:
        assert (work / link).read_bytes().startswith(b"\x89PNG")
    assert [call["argv"][-1] for call in read_calls(fake_quarto)] == ["typst"]


def test_landscape_without_toc_for_quarto(tmp_path, fake_quarto):
    work = tmp_path / "projet"
    QuartoEngine(work_dir=work).render(make_doc(orientation="paysage", sommaire=False, banner=""), tmp_path / "out")
    typst = yaml.safe_load((work / "_quarto.yml").read_text(encoding="utf-8"))["format"]["typst"]
    assert typst["toc"] is False and typst["include-in-header"] == {"text": "#set page(flipped: true)"}
    _, body = front_matter(work / "jeunesse.qmd")
    assert "callout" not in body


def test_quarto_failure_shows_the_end_of_its_messages(tmp_path, fake_quarto, monkeypatch):
    monkeypatch.setenv("FAKE_QUARTO_FAIL", "Typst compilation failed: unknown font")
    with pytest.raises(RenderError) as caught:
        get_engine("quarto").render(make_doc(), tmp_path / "out")
    message = str(caught.value)
    assert message.startswith("Quarto a échoué (code 1) en produisant le HTML « jeunesse »")
    assert "ERROR: Typst compilation failed: unknown font" in message
    assert not (tmp_path / "out").exists()


def test_quarto_success_without_output_is_an_error(tmp_path, fake_quarto):
    fake = Path(shutil.which("quarto"))
    fake.write_text(f"#!{sys.executable}\nimport sys\nsys.exit(0)\n", encoding="utf-8")
    with pytest.raises(RenderError, match="sans produire « jeunesse.html »"):
        get_engine("quarto").render(make_doc(), tmp_path / "out")


@pytest.mark.skipif(shutil.which("quarto") is None,
                    reason="Quarto n'est pas installé ici (pas de paquet dans les registres) : rendu réel non testé")
def test_real_quarto_render(tmp_path):
    html, pdf = get_engine("quarto").render(make_doc(), tmp_path)
    content = html.read_text(encoding="utf-8")
    assert 'lang="fr"' in content and "Jeunesse" in content and "Places en accueil collectif" in content
    assert "import matplotlib" not in content
    assert pdf.read_bytes().startswith(b"%PDF")
    assert base64.b64encode(b"\x89PNG")[:4].decode() in content  # images embedded (embed-resources)
