"""Checks shared by the security tests: nothing in a data directory open to other users."""

from __future__ import annotations

import stat
from pathlib import Path


def loose_modes(root: Path) -> list[str]:
    """Every file or directory under root (root included) that its group or other users may use at all."""
    found = []
    for path in [root, *root.rglob("*")]:
        try:
            mode = path.lstat().st_mode
        except FileNotFoundError:  # a journal or a scratch file, gone meanwhile
            continue
        if not stat.S_ISLNK(mode) and mode & 0o077:
            found.append(f"{stat.filemode(mode)} {path.relative_to(root)}")
    return found
