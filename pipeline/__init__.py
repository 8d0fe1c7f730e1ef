"""CTG evaluation pipeline (Caf de la Drôme × Montélimar Agglomération)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ctg-pipeline")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"
