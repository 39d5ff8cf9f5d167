"""File sizes as people read them."""

from __future__ import annotations


def human_size(size_bytes: int) -> str:
    """``1.5 MB`` style sizes (powers of 1024), as the spec's ``size`` string."""
    value = float(size_bytes)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size_bytes} B"
