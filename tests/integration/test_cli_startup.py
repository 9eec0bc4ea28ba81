"""Start-up: ``rfwatch --help`` and ``rfwatch version`` load only what they need.

Speed itself is measured in bench/dsp.py; here the cause is checked: which modules a
fresh process has imported after each (NumPy, SciPy and pydantic take most of a
second between them), and that the fast path of ``version`` prints what the typer
command prints.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

RFWATCH = Path(sys.executable).with_name("rfwatch")
HEAVY = ("numpy", "scipy", "pydantic", "sqlalchemy", "pyfftw", "sigmf")

PROBE = """
import json, sys
sys.argv = ["rfwatch", *json.loads(sys.argv[1])]
from rfwatch.cli import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})), file=sys.stderr)
"""


def loaded_after(*args: str) -> tuple[str, set[str]]:
    proc = subprocess.run([sys.executable, "-c", PROBE, json.dumps(list(args))],
                          capture_output=True, text=True, timeout=60, check=True)
    return proc.stdout, set(json.loads(proc.stderr.strip().splitlines()[-1]))


def test_help_and_version_do_not_import_the_heavy_libraries() -> None:
    out, mods = loaded_after("--help")
    assert "analyze" in out and "version" in out
    assert not mods & set(HEAVY), sorted(mods & set(HEAVY))
    out, mods = loaded_after("version")
    assert out.startswith("rfwatch ")
    assert not mods & {*HEAVY, "typer", "rich"}, sorted(mods & {*HEAVY, "typer", "rich"})


def test_version_fast_path_prints_what_the_command_prints(tmp_path: Path) -> None:
    fast = subprocess.run([str(RFWATCH), "version"], capture_output=True, text=True,
                          check=True, timeout=60).stdout
    # with a root option the typer command itself answers
    full = subprocess.run([str(RFWATCH), "--home", str(tmp_path), "version"],
                          capture_output=True, text=True, check=True, timeout=60).stdout
    assert fast == full and fast.startswith("rfwatch ")
