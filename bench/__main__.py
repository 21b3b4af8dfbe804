"""`make bench`: runs every benchmark module in bench/ (or those named on the command line)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    names = sys.argv[1:] or sorted(p.stem for p in HERE.glob("*.py") if not p.stem.startswith("_"))
    failed = 0
    for name in names:
        print(f"== bench/{name}.py", flush=True)
        failed += subprocess.run([sys.executable, "-m", f"bench.{name}"], cwd=HERE.parent).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
