"""``landuse run`` as a pipeline: the same tables as the single commands, typed results, and an output folder
that is never half-written, mixed, locked twice or a user's edit lost (issue 11; issue 12 §6)."""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from landuse import pipeline
from landuse.cli import main
from landuse.errors import InputError
from landuse.output import MARKER, read_marker
from tests.conftest import MINI

LANGSON = Path(__file__).resolve().parents[1] / "data" / "langson"


def snapshot(folder: Path) -> dict[str, str]:
    """Every file of ``folder`` (hidden ones too) -> SHA-256 of its bytes."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def workbook_parts(path: Path) -> dict[str, bytes]:
    """Every part of an .xlsx file, its creation time (to the second, in docProps/core.xml) blanked."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts["docProps/core.xml"] = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"T", parts["docProps/core.xml"])
    return parts


def leftovers(parent: Path) -> list[str]:
    """Staging folders, old folders and locks the run should have cleaned up."""
    return [p.name for p in parent.iterdir() if ".staging-" in p.name or ".old-" in p.name or p.name.endswith("lock")]


@pytest.fixture(scope="module")
def mini_run(tmp_path_factory):
    """One finished run of the small dataset, and what ``landuse run`` printed."""
    out = tmp_path_factory.mktemp("run") / "out"
    r = CliRunner().invoke(main, ["run", "--data", str(MINI), "--out", str(out)])
    assert r.exit_code == 0, r.output
    return out, r.output


def csv_of(runner_args: list[str]) -> pd.DataFrame:
    r = CliRunner().invoke(main, runner_args + ["--format", "csv"])
    assert r.exit_code == 0, r.output
    return pd.read_csv(io.StringIO(r.output), dtype=str, keep_default_na=False)


def test_run_writes_what_the_single_commands_print(mini_run):
    """The run's tables, read back, equal the output of the command that computes each one on its own (a second,
    independent path through the CLI)."""
    out, _ = mini_run
    read = lambda name: pd.read_csv(out / name, dtype=str, keep_default_na=False)  # noqa: E731
    pd.testing.assert_frame_equal(read("kiem_tra.csv"), csv_of(["reconcile", "--data", str(MINI)]))
    pd.testing.assert_frame_equal(read("bien_dong_2019_2024.csv"),
                                  csv_of(["change", "--data", str(MINI), "--from", "2019", "--to", "2024"]))
    pd.testing.assert_frame_equal(read("chu_chuyen_uoc_tinh_2019_2024.csv"),
                                  csv_of(["transitions", "--data", str(MINI), "--estimate", "--from", "2019", "--to",
                                          "2024"]))
    pd.testing.assert_frame_equal(read("tong_quan.csv"), csv_of(["info", "--data", str(MINI)]))


def test_run_prints_step_names_with_their_own_time(mini_run):
    _, output = mini_run
    lines = [ln for ln in output.splitlines() if ln.startswith("[")]
    names = [ln.split("] ")[1].split(" (")[0] for ln in lines]
    assert names == ["load", "reconcile", "change", "intensity", "fulfilment", "allocate", "workbook"]
    assert all(ln.endswith(" s)") and "/7]" in ln for ln in lines)


def test_marker_records_the_hash_of_every_file_written(mini_run):
    out, _ = mini_run
    recorded = read_marker(out)
    files = {k: v for k, v in snapshot(out).items() if k != MARKER}
    assert recorded == files and "kiem_tra.csv" in recorded and "bao_cao_dat_dai.xlsx" in recorded


def test_results_are_typed_and_carry_what_the_workbook_needs():
    from landuse.dataset import load_dataset

    r = pipeline.Results(load_dataset(LANGSON))
    for step in (pipeline.step_load, pipeline.step_reconcile, pipeline.step_change, pipeline.step_fulfilment,
                 pipeline.step_overview):
        step(r)
    assert list(r.overview["year"]) == [2014, 2019, 2024] and "NNP_pct" in r.overview
    assert (r.estimate.from_year, r.estimate.to_year) == (2019, 2024)
    f = r.fulfilment
    assert (f.plan, f.base_year, f.year, f.target_year) == ("qd236-bang4", 2020, 2024, 2030)
    assert f.elapsed_pct == pytest.approx(100 * 4 / 10) and not f.table.attrs
    assert set(r.changes) == {(2014, 2019), (2019, 2024), (2014, 2024)}
    keys = r.findings[["table", "column_id", "unit", "year_from", "year", "code"]]
    boundary = r.findings[r.findings["check"] == "boundary"].iloc[0]
    assert (boundary["year_from"], boundary["year"], boundary["code"]) == (2014, 2019, "TS")
    assert keys["code"].ne("").mean() > 0.9  # nearly every finding names its land code as a key


def failing(name: str):
    def step(r):
        raise InputError(f"{name} failed on purpose")
    return step


def test_a_failing_step_leaves_the_previous_folder_as_it_was(mini_run, tmp_path, monkeypatch):
    out = tmp_path / "out"
    import shutil

    shutil.copytree(mini_run[0], out)
    before = snapshot(out)
    steps = list(pipeline.STEPS)
    steps[2] = failing("change")  # after reconcile has computed its tables
    monkeypatch.setattr(pipeline, "STEPS", tuple(steps))
    r = CliRunner().invoke(main, ["run", "--data", str(LANGSON), "--out", str(out)])
    assert r.exit_code == 2 and "change failed on purpose" in r.output
    assert snapshot(out) == before and leftovers(tmp_path) == []


def test_a_failing_first_run_leaves_no_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "STEPS", (pipeline.step_load, failing("reconcile")))
    r = CliRunner().invoke(main, ["run", "--data", str(MINI), "--out", str(tmp_path / "new")])
    assert r.exit_code == 2 and not (tmp_path / "new").exists() and leftovers(tmp_path) == []


def test_ctrl_c_leaves_the_previous_folder_and_no_partial_files(mini_run, tmp_path):
    """A real process interrupted by SIGINT (Ctrl-C) while it runs its steps."""
    import shutil

    out = tmp_path / "out"
    shutil.copytree(mini_run[0], out)
    before = snapshot(out)
    p = subprocess.Popen([sys.executable, "-m", "landuse", "run", "--data", str(LANGSON), "--out", str(out)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stderr.readline()  # "[1/7] load (… s)": the staging folder exists, the steps run
    assert line.startswith("[1/7]"), line
    p.send_signal(signal.SIGINT)
    p.communicate(timeout=120)
    assert p.returncode != 0
    assert snapshot(out) == before and leftovers(tmp_path) == []


def test_a_second_run_into_a_locked_folder_is_refused(tmp_path):
    out = tmp_path / "out"
    lock = tmp_path / ".out.landuse-lock"
    lock.write_text(str(os.getpid()))  # a live process holds it
    r = CliRunner().invoke(main, ["run", "--data", str(MINI), "--out", str(out)])
    assert r.exit_code == 2 and "another landuse run is writing into this folder" in r.output
    assert not out.exists() and lock.read_text() == str(os.getpid())


def test_a_stale_lock_is_taken_over(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / ".out.landuse-lock").write_text(str(dead.pid))
    r = CliRunner().invoke(main, ["run", "--data", str(MINI), "--out", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "out" / "kiem_tra.csv").exists() and leftovers(tmp_path) == []


def test_two_concurrent_runs_one_is_refused(mini_run, tmp_path):
    """A run holding the folder's lock (here: this test process, alive, as a run would hold it) makes a second
    run into the same folder exit 2 and leave the folder alone; once the lock is released the run goes through.
    (Deterministic: two real runs racing each other would depend on how fast the first one is.)"""
    import os

    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "landuse", "run", "--data", str(MINI), "--out", str(out)]
    lock = tmp_path / ".out.landuse-lock"
    lock.write_text(str(os.getpid()))
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert second.returncode == 2 and "another landuse run" in second.stderr and "Traceback" not in second.stderr
    assert not out.exists() and lock.read_text() == str(os.getpid())
    lock.unlink()
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert not lock.exists()
    assert read_marker(out) == {k: v for k, v in snapshot(out).items() if k != MARKER}


def test_an_edited_file_or_a_users_file_is_never_replaced_without_force(mini_run, tmp_path):
    import shutil

    out = tmp_path / "out"
    shutil.copytree(mini_run[0], out)
    (out / "kiem_tra.csv").write_text("my notes\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["run", "--data", str(MINI), "--out", str(out)])
    assert r.exit_code == 2 and "kiem_tra.csv" in r.output and "--force" in r.output
    assert (out / "kiem_tra.csv").read_text(encoding="utf-8") == "my notes\n"
    (out / "kiem_tra.csv").unlink()
    (out / "mine.txt").write_text("keep me", encoding="utf-8")
    r = CliRunner().invoke(main, ["run", "--data", str(MINI), "--out", str(out)])
    assert r.exit_code == 2 and "mine.txt" in r.output
    r = CliRunner().invoke(main, ["run", "--data", str(MINI), "--out", str(out), "--force"])
    assert r.exit_code == 0, r.output
    assert (out / "mine.txt").read_text(encoding="utf-8") == "keep me"  # kept, not the tool's
    assert (out / "kiem_tra.csv").exists() and "mine.txt" not in read_marker(out)


def test_a_file_left_by_a_previous_dataset_is_not_mixed_in(mini_run, tmp_path):
    """Files the tool wrote for another dataset (e.g. a year this one lacks) go: the folder holds one run."""
    import shutil

    out = tmp_path / "out"
    shutil.copytree(mini_run[0], out)
    r = CliRunner().invoke(main, ["run", "--data", str(LANGSON), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert not (out / "bien_dong_2019_2024.csv").read_text(encoding="utf-8") == \
        (mini_run[0] / "bien_dong_2019_2024.csv").read_text(encoding="utf-8")
    names = set(snapshot(out)) - {MARKER}
    assert names == set(read_marker(out)) and "bien_dong_2014_2019.csv" in names


# ---- commands with several outputs: all or nothing ----------------------------------------------------------
def test_reconcile_refuses_the_same_file_twice(tmp_path):
    x = tmp_path / "x.csv"
    r = CliRunner().invoke(main, ["reconcile", "--data", str(MINI), "--reconciled", str(x), "--out", str(x)])
    assert r.exit_code == 2 and "two outputs name the same file" in r.output and not x.exists()


def test_reconcile_writes_nothing_when_one_output_is_refused(tmp_path):
    taken = tmp_path / "out.txt"
    taken.write_text("mine", encoding="utf-8")
    r = CliRunner().invoke(main, ["reconcile", "--data", str(MINI), "--reconciled", str(tmp_path / "rec.csv"),
                                  "--out", str(taken)])
    assert r.exit_code == 2 and "out.txt" in r.output
    assert not (tmp_path / "rec.csv").exists() and taken.read_text(encoding="utf-8") == "mine"
    r = CliRunner().invoke(main, ["reconcile", "--data", str(MINI), "--reconciled", str(tmp_path / "rec.csv"),
                                  "--out", str(tmp_path / "f.csv"), "--format", "csv"])
    assert r.exit_code == 0 and (tmp_path / "rec.csv").exists() and (tmp_path / "f.csv").exists()


def test_allocate_writes_nothing_when_one_output_is_refused(tmp_path):
    (tmp_path / "perm.csv").write_text("mine", encoding="utf-8")
    r = CliRunner().invoke(main, ["allocate", "--conversions", str(tmp_path / "conv.csv"), "--permissions",
                                  str(tmp_path / "perm.csv")])
    assert r.exit_code == 2 and "perm.csv" in r.output
    assert not (tmp_path / "conv.csv").exists() and (tmp_path / "perm.csv").read_text(encoding="utf-8") == "mine"
    r = CliRunner().invoke(main, ["allocate", "--conversions", str(tmp_path / "conv.csv"), "--permissions",
                                  str(tmp_path / "nodir" / "p.csv")])
    assert r.exit_code == 2 and "output folder does not exist" in r.output and not (tmp_path / "conv.csv").exists()


# ---- --batch takes the single run's options or refuses them ------------------------------------------------
@pytest.mark.parametrize("flag", ["--conversions", "--permissions", "--unit-flows", "--unit-areas"])
def test_batch_refuses_single_file_outputs(tmp_path, flag):
    r = CliRunner().invoke(main, ["allocate", "--batch", str(LANGSON), flag, str(tmp_path / "x.csv")])
    assert r.exit_code == 2 and f"{flag} names one file or unit" in r.output and "--out-dir" in r.output
    assert list(tmp_path.iterdir()) == []


def test_batch_passes_unit_costs_and_number_format(tmp_path):
    costs = tmp_path / "costs.csv"
    costs.write_text("unit,code,factor\nNowhere,LUC,2\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["allocate", "--batch", str(LANGSON), "--unit-costs", str(costs), "--format", "csv"])
    assert r.exit_code == 2
    err = pd.read_csv(io.StringIO(r.output[r.output.index("job,"):]))["error"].iloc[0]
    assert "costs.csv" in err and "Nowhere" in err  # the job read the cost file: the option reached it
    # the bundled figures ("831.009") cannot be English: the single run and the batch job refuse them alike
    single = CliRunner().invoke(main, ["allocate", "--number-format", "en", "--format", "csv"])
    batch = CliRunner().invoke(main, ["allocate", "--batch", str(LANGSON), "--number-format", "en", "--format",
                                      "csv"])
    assert single.exit_code == batch.exit_code == 2 and "Vietnamese thousands grouping" in single.output
    err = pd.read_csv(io.StringIO(batch.output[batch.output.index("job,"):]))["error"].iloc[0]
    assert "Vietnamese thousands grouping" in err and "inventory.csv" in err


def test_negative_jobs_is_refused():
    r = CliRunner().invoke(main, ["allocate", "--batch", str(LANGSON), "--jobs", "-3"])
    assert r.exit_code == 2 and "-3" in r.output


# ---- | head ----------------------------------------------------------------------------------------------
def test_broken_pipe_exits_quietly():
    """``landuse reconcile --format json | head -c 10``: the reader leaves early; no traceback, no error line."""
    read, write = os.pipe()
    fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, 4096)  # a small pipe, so that the writer meets the closed end
    p = subprocess.Popen([sys.executable, "-m", "landuse", "reconcile", "--data", str(LANGSON), "--format", "json"],
                         stdout=write, stderr=subprocess.PIPE)
    os.close(write)
    head = os.read(read, 10)
    os.close(read)
    _, err = p.communicate(timeout=120)
    assert head.startswith(b"[")
    assert b"Traceback" not in err and b"error" not in err.lower(), err
    assert p.returncode in (0, 1)


def test_staging_folder_is_beside_the_target_and_renamed(tmp_path):
    from landuse.output import StagedFolder

    with StagedFolder(tmp_path / "out") as staging:
        (staging / "a.csv").write_text("1", encoding="utf-8")
        seen = [p.name for p in tmp_path.iterdir()]
        assert not (tmp_path / "out").exists()
    assert any(".out.staging-" in n for n in seen) and any(n.endswith("landuse-lock") for n in seen)
    assert (tmp_path / "out" / "a.csv").read_text(encoding="utf-8") == "1" and leftovers(tmp_path) == []


def _sheets(xlsx: Path) -> dict[str, bytes]:
    """The parts of a workbook that carry its content (the file's creation time left out)."""
    import zipfile

    with zipfile.ZipFile(xlsx) as z:
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}


def test_python_backed_strings_change_no_output_and_do_not_leak(tmp_path, monkeypatch):
    """The run job stores str columns as Python strings for speed (issue 16); every file it writes is the same
    byte for byte as with pandas' default (pyarrow) strings, and the option is restored afterwards."""
    import contextlib

    before = pd.get_option("mode.string_storage")
    pipeline.run(LANGSON, tmp_path / "fast")
    assert pd.get_option("mode.string_storage") == before
    monkeypatch.setattr(pipeline, "python_strings", contextlib.nullcontext)
    pipeline.run(LANGSON, tmp_path / "default")
    fast, default = snapshot(tmp_path / "fast"), snapshot(tmp_path / "default")
    xlsx = [n for n in fast if n.endswith(".xlsx")]
    assert xlsx and set(fast) == set(default)
    for name in fast:
        if name.endswith(".xlsx"):
            assert _sheets(tmp_path / "fast" / name) == _sheets(tmp_path / "default" / name), name
        elif name != MARKER:
            assert fast[name] == default[name], name


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork on this platform")
def test_two_processes_write_the_same_files_notes_and_steps_as_one(tmp_path):
    """--jobs 2 (reconcile in a forked child, the workbook in another) against --jobs 1 on the bundled data:
    every file byte for byte, the notes in the same order, the same steps (issue 16)."""
    one = pipeline.run(LANGSON, tmp_path / "one", jobs=1)
    two = pipeline.run(LANGSON, tmp_path / "two", jobs=2)
    a, b = snapshot(tmp_path / "one"), snapshot(tmp_path / "two")
    book = pipeline.WORKBOOK_NAME
    assert {k: v for k, v in a.items() if k not in (book, MARKER)} == {k: v for k, v in b.items()
                                                                       if k not in (book, MARKER)}
    assert workbook_parts(tmp_path / "one" / book) == workbook_parts(tmp_path / "two" / book)
    assert one.notes == two.notes and [p.name for p in one.files] == [p.name for p in two.files]
    assert [(s.number, s.name) for s in one.steps] == [(s.number, s.name) for s in two.steps]
    assert len(one.steps) == len(pipeline.STEP_NAMES)


@pytest.mark.parametrize("jobs", [1, 2])
def test_when_two_steps_fail_the_earlier_ones_error_is_raised(tmp_path, monkeypatch, jobs):
    """Reconcile (run in a child with --jobs 2) and change both fail: the error is reconcile's either way, as
    the steps run one after the other would raise it; nothing is written."""
    steps = list(pipeline.STEPS)
    steps[1], steps[2] = failing("reconcile"), failing("change")
    monkeypatch.setattr(pipeline, "STEPS", tuple(steps))
    with pytest.raises(InputError, match="reconcile failed on purpose"):
        pipeline.run(MINI, tmp_path / "out", jobs=jobs)
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_failing_background_step_exits_2_with_its_message_in_a_real_process(tmp_path, jobs):
    """Through a real process whose reconciliation (a forked child with --jobs 2) raises an input error: the same
    one line on stderr and exit code 2 either way, no traceback, no output folder, no child left behind."""
    script = (
        "import sys\n"
        "from landuse import pipeline\n"
        "from landuse.cli import main\n"
        "from landuse.errors import InputError, Location\n"
        "def bad(r):\n"
        "    raise InputError('plan row is odd', Location.of('plan.csv', row=4, column='area_ha'),\n"
        "                     expected='a number')\n"
        "pipeline.STEPS = (pipeline.STEPS[0], bad, *pipeline.STEPS[2:])\n"
        "main(sys.argv[1:])\n")
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, "-c", script, "run", "--data", str(MINI), "--out", str(out), "--jobs", jobs],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 2, p.stderr
    assert "plan.csv:row 4:column area_ha: plan row is odd: expected a number" in p.stderr
    assert "Traceback" not in p.stderr and not out.exists() and leftovers(tmp_path) == []
