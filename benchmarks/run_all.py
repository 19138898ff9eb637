"""`make bench`: run every benchmark script in turn (never in CI). Each prints its own figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ["bench_web.py", "bench_trials.py", "bench_dashboard.py"]

if __name__ == "__main__":
    failed = []
    for name in SCRIPTS:
        path = HERE / name
        if not path.exists():
            print(f"--- {name}: not present, skipped")
            continue
        print(f"--- {name}")
        if subprocess.run([sys.executable, str(path), *sys.argv[1:]]).returncode != 0:
            failed.append(name)
    sys.exit(1 if failed else 0)
