"""Images given as `data:` URIs in a Markdown body, written to files and linked by a relative path instead.

pandoc reads a large `data:` URI slowly (about half of a thematic page's reading time); a file path costs nothing.
The HTML stays self-contained: pandoc's `--embed-resources` puts the file back as a `data:` URI. Each file is
named after its content (`media/<sha1>.<ext>`), so the same inputs always give the same paths and bytes.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

EXTENSIONS = {"png": "png", "jpeg": "jpg", "svg+xml": "svg"}
RASTER = ("png", "jpeg")
# `](data:image/<kind>;base64,<payload>)`: the link target of a Markdown image, without a title
_DATA_IMAGE = re.compile(r"\]\(data:image/(png|jpeg|svg\+xml);base64,([A-Za-z0-9+/=\s]+)\)")


def extract_images(markdown: str, media: Path, kinds: tuple[str, ...] = tuple(EXTENSIONS)) -> str:
    """Write each `data:` image of one of `kinds` ("png", "jpeg", "svg+xml") to `<media>/<sha1>.<ext>` and link it
    as `media/<sha1>.<ext>` (relative to the folder that holds `media`); other images are left as they are."""

    def save(match: re.Match) -> str:
        kind, payload = match.group(1), "".join(match.group(2).split())
        if kind not in kinds:
            return match.group(0)
        content = base64.b64decode(payload)
        name = f"{hashlib.sha1(content).hexdigest()}.{EXTENSIONS[kind]}"
        path = Path(media) / name
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        return f"](media/{name})"

    return _DATA_IMAGE.sub(save, markdown)
