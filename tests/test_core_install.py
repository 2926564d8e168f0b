"""The README's first command installs only the core dependencies (no pyarrow, matplotlib or map libraries,
which the test extra brings). These tests run the CLI in a real process with those packages made unimportable,
so a code path that works only with an optional package installed fails here rather than on a user's machine."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd

OPTIONAL = ("pyarrow", "matplotlib", "pyogrio", "shapely", "rasterio", "pyproj", "openpyxl")
BLOCK = "import sys\n" + "".join(f"sys.modules[{m!r}] = None\n" for m in OPTIONAL)


def core_cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    code = BLOCK + "from landuse.cli import main\nmain(prog_name='landuse')\n"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def test_landuse_run_works_without_optional_packages(tmp_path):
    r = core_cli("run", "--out", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr and "unexpected" not in r.stderr
    files = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"kiem_tra.csv", "bao_cao_dat_dai.xlsx", "cuong_do_bien_dong.html"} <= files


def test_a_bad_cell_is_reported_not_crashed_without_pyarrow(tmp_path):
    """The slow path of the number grammar (a token that fails) writes NaN into the parsed values: the array
    must be writable on the pandas-only path too (pandas copy-on-write hands out read-only views)."""
    from landuse.readers.tables import parse_tokens

    vals, ok = parse_tokens(pd.Series(["1.234,5", "x"]), "vi")  # in-process, with pyarrow when installed
    assert ok.tolist() == [True, False] and vals[0] == 1234.5
    r = core_cli("reconcile", "--format", "csv")
    assert r.returncode == 0, r.stderr
    t = pd.read_csv(__import__("io").StringIO(r.stdout))
    assert (t["severity"] == "error").sum() == 40  # the README's count of error findings on the bundled data
