"""Publishing is atomic: the published folder is the old set or the new one, never a mix."""

import os

from pipeline import publish as pub


def _write(folder, files):
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


def _snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_first_publish_creates_target(tmp_path):
    target = tmp_path / "reports" / "2024"
    staging = pub.staging_dir(target)
    _write(staging, {"index.html": "new"})
    pub.publish(staging, target)
    assert _snapshot(target) == {"index.html": b"new"}
    assert not staging.exists()


def test_publish_replaces_previous_set_and_leaves_no_sibling(tmp_path):
    target = tmp_path / "reports" / "2024"
    _write(target, {"index.html": "old", "stale.pdf": "x"})
    staging = pub.staging_dir(target)
    _write(staging, {"index.html": "new"})
    pub.publish(staging, target)
    assert _snapshot(target) == {"index.html": b"new"}
    assert sorted(os.listdir(target.parent)) == ["2024"]


def test_fallback_without_renameat2(tmp_path, monkeypatch):
    monkeypatch.setattr(pub, "_exchange", lambda a, b: False)
    target = tmp_path / "2024"
    _write(target, {"a": "old"})
    staging = pub.staging_dir(target)
    _write(staging, {"a": "new"})
    pub.publish(staging, target)
    assert _snapshot(target) == {"a": b"new"}
    assert sorted(os.listdir(tmp_path)) == ["2024"]


def test_recover_removes_staging_and_restores_swapped_out_set(tmp_path):
    _write(tmp_path / ".staging-2024-abcd1234", {"half": "written"})
    _write(tmp_path / ".ancien-2023-deadbeef", {"index.html": "published 2023"})
    _write(tmp_path / "2022", {"index.html": "2022"})
    _write(tmp_path / ".ancien-2022-cafe0000", {"index.html": "older 2022"})
    pub.recover(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["2022", "2023"]
    assert (tmp_path / "2023" / "index.html").read_text() == "published 2023"
    assert (tmp_path / "2022" / "index.html").read_text() == "2022"


def test_recover_of_one_year_leaves_other_years_being_published(tmp_path):
    """Years are published side by side: cleaning up before publishing 2023 must not remove 2024's staging."""
    s2023, s2024 = pub.staging_dir(tmp_path / "2023"), pub.staging_dir(tmp_path / "2024")
    (s2024 / "index.html").write_text("en cours")
    pub.recover(tmp_path, only="2023")
    assert not s2023.exists() and (s2024 / "index.html").read_text() == "en cours"
    pub.recover(tmp_path)
    assert not s2024.exists()
