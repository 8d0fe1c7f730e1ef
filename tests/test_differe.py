"""Deferred modules (pipeline.differe): imported on first use, and great-expectations imported without scipy.stats
and altair in the checks process."""

import subprocess
import sys
import textwrap

import pytest

from pipeline.differe import Differe, differer


@pytest.fixture
def module_lent(tmp_path, monkeypatch):
    """A module `ctg_lent` on the path that records its import in `ctg_lent_importe`."""
    (tmp_path / "ctg_lent.py").write_text("import builtins\nbuiltins.ctg_lent_importe = True\nVALEUR = 42\n"
                                          "def double(x):\n    return 2 * x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "ctg_lent", raising=False)
    import builtins
    monkeypatch.setattr(builtins, "ctg_lent_importe", False, raising=False)
    yield builtins
    sys.modules.pop("ctg_lent", None)


def test_a_deferred_module_is_imported_on_first_use_only(module_lent):
    assert differer("ctg_lent") == ["ctg_lent"]
    import ctg_lent

    assert isinstance(ctg_lent, Differe) and module_lent.ctg_lent_importe is False
    assert ctg_lent.VALEUR == 42 and ctg_lent.double(4) == 8
    assert module_lent.ctg_lent_importe is True
    assert not isinstance(sys.modules["ctg_lent"], Differe)  # the real module replaced the stand-in
    from ctg_lent import double

    assert double(5) == 10


def test_a_missing_attribute_still_raises(module_lent):
    differer("ctg_lent")
    import ctg_lent

    with pytest.raises(AttributeError):
        ctg_lent.absent  # noqa: B018


def test_a_module_already_imported_is_left_alone():
    import json

    assert differer("json") == []
    assert sys.modules["json"] is json


def test_the_checks_import_great_expectations_without_scipy_stats_nor_altair():
    code = textwrap.dedent("""
        import sys
        from pipeline.checks import engine
        engine._gx()
        print(sorted(n for n in ("scipy.stats", "altair") if type(sys.modules.get(n)).__name__ == "module"))
    """)
    sortie = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert sortie.strip().splitlines()[-1] == "[]"
