"""The one exception of the rendering layer: its message is French and meant for the user."""

from __future__ import annotations


class RenderError(RuntimeError):
    """A report could not be rendered; `str(error)` is a French message that says what to do."""


def stderr_tail(text: str | bytes, lines: int = 20) -> str:
    """The last `lines` non-empty lines of a tool's error output (what a user needs to see)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    kept = [line for line in text.splitlines() if line.strip()]
    return "\n".join(kept[-lines:])
