"""`python -m pipeline.sample [--data-dir DIR]`: regenerate the illustrative dataset below DIR/raw/."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.sample import generate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m pipeline.sample",
                                     description="Régénère les données d'illustration (exports Caf et suivi local).")
    parser.add_argument("--data-dir", type=Path, default=Path("data"), help="Dossier des données (défaut : data).")
    args = parser.parse_args(argv)
    for path in generate(args.data_dir):
        print(path)


if __name__ == "__main__":
    main()
