"""The command line imports only what a command uses: startup and --help load neither pandas nor a solver."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("pandas", "numpy", "pulp", "highspy", "xlsxwriter", "pyarrow", "matplotlib")


def _loaded_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_importing_the_cli_loads_no_heavy_library():
    loaded = _loaded_after("import landuse.cli")
    assert "landuse" in loaded and "click" in loaded
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_help_of_every_command_loads_no_heavy_library():
    code = ("from click.testing import CliRunner\nfrom landuse.cli import main\n"
            "r = CliRunner()\nassert r.invoke(main, ['--help']).exit_code == 0\n"
            "for name in main.commands:\n    assert r.invoke(main, [name, '--help']).exit_code == 0, name")
    loaded = _loaded_after(code)
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_a_command_that_reads_a_dataset_does_not_load_the_solvers(tmp_path):
    code = ("from click.testing import CliRunner\nfrom landuse.cli import main\n"
            "r = CliRunner().invoke(main, ['change', '--from', '2019', '--to', '2024', '--format', 'csv'])\n"
            "assert r.exit_code == 0, r.output")
    loaded = _loaded_after(code)
    assert "pandas" in loaded  # the command did run
    assert not loaded & {"pulp", "highspy", "xlsxwriter", "matplotlib"}


def test_help_in_a_real_process_lists_the_commands():
    out = subprocess.run([sys.executable, "-m", "landuse", "--help"], capture_output=True, text=True, check=True)
    for name in ("run", "transitions", "allocate", "tables"):
        assert name in out.stdout


def test_the_heap_is_frozen_at_exit():
    """At exit the objects still alive are frozen (the interpreter's last collections then skip them), also when
    several commands ran in the process; each command's output is what it was, and what a command froze for its
    duration (its imports, :func:`landuse.cli.imports_set_aside`) is unfrozen when it ends."""
    probe = ("import atexit, gc, sys\n"
             "atexit.register(lambda: sys.stderr.write(f'frozen {gc.get_freeze_count() > 0}'))\n"
             "from click.testing import CliRunner\nfrom landuse.cli import main\n"
             "args = ['transitions', '--estimate', '--from', '2019', '--to', '2024', '--format', 'csv']\n"
             "outs = [CliRunner().invoke(main, args).output for _ in range(3)]\n"
             "assert len(set(outs)) == 1 and outs[0].startswith('from'), outs\n"
             "assert gc.get_freeze_count() == 0 and gc.isenabled()  # the imports' objects unfrozen after each\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stderr == "frozen True"
