"""A short run of tools/killtest.py: writers of every container SIGKILLed at random moments, recoveries too.

The long run (several hundred kills per scenario) is reported in the branch's note; this one takes ~20 s. Besides the
tool's own checks (exit 0), the counts must show that the kills landed where they matter: while a whole file was
written (temporaries left, removed by the next write), while an incremental update patched the file (a torn
journal), and that mismatched executable + dSYM pairs were seen and reported by verify.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_short_kill_run(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "killtest.py"), "--seed", "13", "--kills", "32",
                          "--dir", str(tmp_path / "kills")], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0 and run.stdout.rstrip().endswith("all checks passed"), run.stdout + run.stderr
    lines = run.stdout.splitlines()
    header = lines[1].split()
    rows = {fields[0]: dict(zip(header[1:], map(float, fields[1:]), strict=True))
            for fields in (line.split() for line in lines[2:-1])}
    assert set(rows) == {"elf", "pe", "dsym", "pair", "inc-elf", "inc-dsym", "inc-pe"}, run.stdout
    for name, row in rows.items():
        assert row["trials"] == 32 and row["killed"] >= 8 and row["failures"] == 0, (name, run.stdout)
    whole, incremental = ["elf", "pe", "dsym", "pair"], ["inc-elf", "inc-dsym", "inc-pe"]
    assert sum(rows[n]["tmp_left"] for n in whole) > 0, run.stdout  # kills during a write
    assert rows["pair"]["flagged"] > 0, run.stdout
    assert sum(rows[n]["torn"] for n in incremental) > 0, run.stdout
    assert sum(rows[n]["rec_killed"] for n in incremental) > 0, run.stdout
