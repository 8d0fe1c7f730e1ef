"""The shared vocabularies of the local sheets (`metadata/vocabulaire.yaml`), loaded in this one place."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from pipeline.config import ROOT
from pipeline.inputs.common import normalize_label

VOCABULARY_FILE = ROOT / "metadata" / "vocabulaire.yaml"
KINDS = ("statuts", "types_structure", "financeurs", "dispositifs", "indicateurs_activite")


@dataclass(frozen=True)
class Vocabulary:
    entries: dict[str, dict[str, dict]]   # kind -> code -> {libelle, ...}
    territoire: str                       # pseudo structure id for territory-wide counts

    def codes(self, kind: str) -> list[str]:
        return list(self.entries[kind])

    def label(self, kind: str, code: str) -> str:
        return self.entries[kind].get(code, {}).get("libelle", code)

    def attribute(self, kind: str, code: str, name: str, default=None):
        return self.entries[kind].get(code, {}).get(name, default)

    def normalize(self, kind: str, value: str) -> str:
        """Code for a value written as code or label (case and accents ignored); ValueError if unknown."""
        key = normalize_label(value)
        for code, entry in self.entries[kind].items():
            if key in (normalize_label(code), normalize_label(entry.get("libelle", ""))):
                return code
        raise ValueError(value)

    def allowed(self, kind: str) -> str:
        """French hint listing accepted codes."""
        return "valeurs acceptées : " + ", ".join(self.codes(kind))


@lru_cache(maxsize=4)
def load_vocabulary(path: Path | None = None) -> Vocabulary:
    with open(path or VOCABULARY_FILE, encoding="utf-8") as f:
        data = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return Vocabulary({kind: data[kind] for kind in KINDS}, str(data["pseudo_structure_territoire"]))
