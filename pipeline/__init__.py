"""CTG evaluation pipeline (Caf de la Drôme × Montélimar Agglomération)."""

import os
import sys
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ctg-pipeline")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

# jsonschema (imported by nbformat, papermill and great-expectations) imports `rfc3987_syntax` when it is installed,
# only to check the "iri" string format: that builds a Lark Earley parser, ~2 s of CPU in every process. No schema
# the pipeline validates uses that format, so the pipeline's processes do without it (jsonschema then skips the
# format, as when the package is absent). Set CTG_RFC3987=1 to keep it. See docs/performance.md.
if os.environ.get("CTG_RFC3987", "") != "1":
    sys.modules.setdefault("rfc3987_syntax", None)
