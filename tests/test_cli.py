"""The CLI: every command has a French help with an example and is documented in the README."""

import re
from pathlib import Path

import typer.main
from typer.testing import CliRunner

from pipeline.cli import app

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def command_names() -> list[str]:
    group = typer.main.get_command(app)
    return sorted(group.commands)


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert re.match(r"ctg \d+\.\d+\.\d+", result.output)


def test_help_lists_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in ["run", "validate"]:
        assert name in result.output


def test_every_command_has_an_example_in_its_help():
    names = command_names()
    assert len(names) >= 3
    for name in names:
        result = runner.invoke(app, [name, "--help"], terminal_width=200)
        assert result.exit_code == 0, name
        assert "Exemple : ctg " in result.output, f"`ctg {name} --help` has no example"


def test_every_command_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in command_names() if f"`ctg {name}" not in readme]
    assert not missing, f"commands missing from README.md: {missing}"
