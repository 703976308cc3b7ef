"""Crash safety of every writer (issue 6, section 4).

Beside Tests/ModelKitCLITests/CrashSafetyTests.swift, for the formats it does not cover, and for readers:
- A save killed with SIGKILL at a random moment leaves the target either the complete old model or the complete new
  one, byte for byte (every writer is deterministic, so "complete" is checked against an uninterrupted save), and
  `check` passes on it; the next save leaves no temporary file behind.
- A save that hits a full disk (a file-size limit, RLIMIT_FSIZE, in the child) fails with exit 1 and a one-line
  message, leaves the old file untouched and no temporary file behind.
- A reader that opens the target while another process keeps replacing it always sees a whole file.
"""
import os
import random
import shutil
import signal
import subprocess
import time

import pytest

# (format, target name). Tests/ModelKitCLITests/CrashSafetyTests.swift kills and limits saves of mkf, h5, safetensors,
# npz and json; these are the other formats ModelKit writes. ONNX drops the optimizer state, hence --allow-lossy.
FORMATS = [("keras-h5", "t.keras.h5"), ("onnx", "t.onnx"), ("csv", "t.csv")]
# Formats whose files readers open while the test replaces them, over and over.
REPLACED = [("mkf", "t.mkf"), ("h5", "t.h5"), ("keras-h5", "t.keras.h5"), ("safetensors", "t.safetensors"),
            ("npz", "t.npz"), ("csv", "t.csv")]
REPLACEMENTS = 4  # the writer replaces the target 2 * REPLACEMENTS times while readers check it
KILLS_PER_FORMAT = 15
ARCH = "256-1024relu-512relu-10"  # 791,050 parameters: a 3 MB .mkf, 9 MB of JSON text


def convert_args(bin_path, source, target, fmt):
    return [str(bin_path), "convert", str(source), str(target), "--to", fmt, "--allow-lossy"]


def snapshot(path):
    """The content of a file, or of a folder as {name: bytes}; None when absent."""
    if os.path.isdir(path):
        return {name: open(os.path.join(path, name), "rb").read() for name in sorted(os.listdir(path))}
    if os.path.exists(path):
        return open(path, "rb").read()
    return None


def place(reference, target):
    """Puts a copy of `reference` at `target` (replacing what is there) without going through ModelKit."""
    if os.path.isdir(target):
        shutil.rmtree(target)
    elif os.path.exists(target):
        os.unlink(target)
    if os.path.isdir(reference):
        shutil.copytree(reference, target)
    else:
        shutil.copyfile(reference, target)


def check_file(bin_path, fmt, path):
    """`modelkit check`, or for ONNX (which ModelKit writes but does not read) the onnx package's checker."""
    if fmt == "onnx":
        import onnx
        onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    else:
        subprocess.run([str(bin_path), "check", str(path)], check=True, capture_output=True)


def leftovers(directory, target_name):
    return sorted(n for n in os.listdir(directory) if n != target_name)


@pytest.fixture(scope="module")
def models(module_dir, modelkit_bin):
    """Two models of the same architecture (old and new), as .mkf."""
    for name, seed in (("old", 1), ("new", 2)):
        subprocess.run([str(modelkit_bin), "init", "--arch", ARCH, "--optimizer", "adam", "--seed", str(seed),
                        "-o", str(module_dir / f"{name}.mkf")], check=True, capture_output=True)
    return module_dir / "old.mkf", module_dir / "new.mkf"


@pytest.fixture(scope="module")
def references(models, module_dir, modelkit_bin):
    """reference(fmt) -> uninterrupted saves of the old and the new model in that format, each checked, and how long
    a save takes; made on first use."""
    old, new = models
    made = {}

    def reference(fmt):
        if fmt not in made:
            name = dict(FORMATS + REPLACED)[fmt]
            folder = module_dir / f"ref-{fmt}"
            folder.mkdir()
            start = time.monotonic()
            for label, source in (("old", old), ("new", new)):
                subprocess.run(convert_args(modelkit_bin, source, folder / f"{label}-{name}", fmt), check=True,
                               capture_output=True)
            duration = (time.monotonic() - start) / 2
            for label in ("old", "new"):
                check_file(modelkit_bin, fmt, folder / f"{label}-{name}")
            made[fmt] = (folder / f"old-{name}", folder / f"new-{name}", duration)
        return made[fmt]
    return reference


def kill_during_save(argv, directory, target_name, rng, duration):
    """Starts a save and kills it: half the time at a random moment of its expected run, half the time once its
    temporary file (or folder) has appeared and grown past a random size, so that many kills land mid-write."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if rng.random() < 0.5:
        time.sleep(rng.uniform(0, duration * 1.1))
    else:
        want = rng.randint(0, 2_000_000)
        deadline = time.monotonic() + duration * 3 + 1
        while proc.poll() is None and time.monotonic() < deadline:
            temporaries = [os.path.join(directory, n) for n in os.listdir(directory) if n != target_name]
            size = 0
            for t in temporaries:
                try:
                    size += sum(os.path.getsize(os.path.join(t, f)) for f in os.listdir(t)) if os.path.isdir(t) \
                        else os.path.getsize(t)
                except OSError:
                    pass
            if temporaries and size >= want:
                break
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    return proc.returncode


@pytest.mark.parametrize("fmt,target_name", FORMATS)
def test_killed_save_leaves_old_or_new(fmt, target_name, models, references, modelkit_bin, modelkit, workdir):
    _, new = models
    old_ref, new_ref, duration = references(fmt)
    old_bytes, new_bytes = snapshot(old_ref), snapshot(new_ref)
    assert old_bytes != new_bytes
    target = workdir / target_name
    place(old_ref, target)
    rng = random.Random(f"{fmt}-kills")
    outcomes = {"old": 0, "new": 0}
    killed = 0
    for round_ in range(KILLS_PER_FORMAT):
        status = kill_during_save(convert_args(modelkit_bin, new, target, fmt), workdir, target_name, rng, duration)
        killed += status == -signal.SIGKILL
        assert status in (0, -signal.SIGKILL), f"round {round_}: the save exited {status}"
        now = snapshot(target)
        # Byte-identical to a file that passed `check` (in the fixture) means `check` passes on it too.
        if now == old_bytes:
            outcomes["old"] += 1
        elif now == new_bytes:
            outcomes["new"] += 1
            place(old_ref, target)
        else:
            kept = workdir.parent / f"modelkit-torn-{fmt}-{round_}"
            place(target, kept) if now is not None else None
            detail = "missing" if now is None else f"neither old nor new (kept at {kept})"
            pytest.fail(f"{fmt}, round {round_}: after SIGKILL the target is {detail}")
    assert killed > 0, f"{fmt}: no save was killed before it finished (outcomes {outcomes})"
    # Killed saves may leave their temporary behind; the next save clears every one whose process is gone.
    modelkit("convert", new, target_name, "--to", fmt, "--allow-lossy", expect=0)
    assert snapshot(target) == new_bytes
    assert leftovers(workdir, target_name) == [], f"{fmt}: stray files after a completed save ({outcomes})"
    check_file(modelkit_bin, fmt, target)


@pytest.mark.parametrize("fmt,target_name", FORMATS)
def test_full_disk_fails_cleanly_and_keeps_the_old_file(fmt, target_name, models, references, modelkit_bin,
                                                        workdir):
    _, new = models
    old_ref, _, _ = references(fmt)
    target = workdir / target_name
    place(old_ref, target)
    before = snapshot(target)
    # RLIMIT_FSIZE (`ulimit -f` counts 1024-byte blocks) in a child shell; SIGXFSZ ignored, so that a write past the
    # limit fails with EFBIG, as on a full disk, instead of killing the process. The CSV dump's limit (4 MiB per file)
    # lets its first tensor file (2.9 MB of text) through and stops the second (5.8 MB), so the failure is mid-dump.
    argv = convert_args(modelkit_bin, new, target, fmt)
    blocks = 4096 if fmt == "csv" else 512
    script = f"trap '' XFSZ; ulimit -f {blocks}; exec \"$@\""
    proc = subprocess.run(["bash", "-c", script, "bash", *argv], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, f"{fmt}: exit {proc.returncode}, stderr: {proc.stderr}"
    message = proc.stderr.strip().splitlines()
    assert message and message[-1].startswith("modelkit: "), proc.stderr
    assert snapshot(target) == before, f"{fmt}: the old file was changed by a failed save"
    assert leftovers(workdir, target_name) == [], f"{fmt}: a failed save left files behind"


@pytest.mark.parametrize("fmt,target_name", REPLACED)
def test_readers_see_a_whole_file_while_it_is_replaced(fmt, target_name, models, references, modelkit_bin,
                                                       workdir):
    old, new = models
    old_ref, _, _ = references(fmt)
    target = workdir / target_name
    place(old_ref, target)
    writer = subprocess.Popen(["bash", "-c", f'for i in $(seq {REPLACEMENTS}); do "$1" convert "$2" "$4" --to "$5" && '
                               '"$1" convert "$3" "$4" --to "$5"; done',
                               "bash", str(modelkit_bin), str(new), str(old), str(target), fmt],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    # Each read converts the target back to .mkf: every format round-trips these models bit for bit, so a whole read
    # gives exactly old.mkf or new.mkf (a `check` alone would pass a CSV dump mixed from the two, which has no checksums).
    wholes = (old.read_bytes(), new.read_bytes())
    reads = gave_up = 0
    readback = workdir.parent / f"{workdir.name}-read.mkf"
    try:
        while writer.poll() is None or reads < 3:
            proc = subprocess.run([str(modelkit_bin), "convert", str(target), str(readback), "--from", fmt],
                                  capture_output=True, text=True, timeout=60)
            if fmt == "csv" and proc.returncode == 1 and "replaced again and again" in proc.stderr:
                # A dump is many files: a reader slower than back-to-back saves may give up, saying so; it never
                # returns a mix. Once the writer has stopped the folder stays put, and reads succeed.
                gave_up += 1
                assert gave_up < 100, proc.stderr
                continue
            assert proc.returncode == 0, f"{fmt}: a reader saw a broken file: {proc.stderr}"
            assert readback.read_bytes() in wholes, f"{fmt}: a reader saw a model that is neither old nor new"
            reads += 1
    finally:
        if writer.poll() is None:
            writer.kill()
        writer.wait()
    assert writer.returncode == 0, writer.stderr.read()


def test_csv_dump_never_replaces_a_folder_of_other_files(modelkit, workdir):
    modelkit("init", "--arch", "3-4relu-2", "--seed", "1", "-o", "m.mkf", expect=0)
    (workdir / "photos").mkdir()
    (workdir / "photos" / "cat.jpg").write_bytes(b"\xff\xd8 not a model")
    proc = modelkit("convert", "m.mkf", "photos", "--to", "csv", expect=1)
    assert "photos" in proc.stderr
    assert sorted(os.listdir(workdir / "photos")) == ["cat.jpg"]
    assert leftovers(workdir, "photos") == ["m.mkf"]
    # An empty folder, or an earlier dump, is replaced whole.
    (workdir / "empty").mkdir()
    modelkit("convert", "m.mkf", "empty", "--to", "csv", expect=0)
    modelkit("init", "--arch", "3-5relu-2", "--seed", "2", "-o", "n.mkf", expect=0)
    modelkit("convert", "n.mkf", "empty", "--to", "csv", expect=0)
    modelkit("diff", "n.mkf", "empty", expect=0)


@pytest.fixture
def small_disk(workdir):
    """A 1 MiB tmpfs, a real full disk (ENOSPC), where this process may mount one (root); else the test is skipped
    and test_full_disk_fails_cleanly_and_keeps_the_old_file, with a file-size limit, stands in for it."""
    mount_point = workdir / "disk"
    mount_point.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


ALL_WRITTEN = [("mkf", "t.mkf"), ("h5", "t.h5"), ("keras-h5", "t.keras.h5"), ("safetensors", "t.safetensors"),
               ("npz", "t.npz"), ("json", "t.json"), ("onnx", "t.onnx"), ("csv", "t.csv")]


def test_full_tmpfs_fails_cleanly_and_keeps_the_old_file(small_disk, models, modelkit_bin, modelkit, workdir):
    """Every format in turn: a small model saved on the 1 MiB disk, then a 3 MB one over it: exit 1 with a one-line
    message, the small model's file untouched, nothing else left on the disk."""
    _, new = models
    modelkit("init", "--arch", "3-4relu-2", "--optimizer", "adam", "--seed", "1", "-o", "small.mkf", expect=0)
    for fmt, name in ALL_WRITTEN:
        target = small_disk / name
        modelkit("convert", "small.mkf", target, "--to", fmt, "--allow-lossy", expect=0)
        before = snapshot(target)
        proc = modelkit("convert", new, target, "--to", fmt, "--allow-lossy", expect=1)
        lines = proc.stderr.strip().splitlines()
        assert lines and lines[-1].startswith("modelkit: "), f"{fmt}: {proc.stderr}"
        assert snapshot(target) == before, f"{fmt}: the old file was changed by a failed save"
        assert leftovers(small_disk, name) == [], f"{fmt}: a failed save left files on the disk"
        place_out = workdir / f"kept-{name}"
        shutil.move(str(target), str(place_out))  # frees the disk for the next format


CONCURRENT = [("mkf", "t.mkf"), ("h5", "t.h5"), ("safetensors", "t.safetensors"), ("npz", "t.npz"), ("csv", "t.csv")]


@pytest.mark.parametrize("fmt,target_name", CONCURRENT)
@pytest.mark.parametrize("target_exists", [False, True])
def test_concurrent_saves_to_one_target_leave_a_whole_file(fmt, target_name, target_exists, models, references,
                                                           modelkit_bin, workdir):
    """Six processes save the old and the new model to the same target at once: every save succeeds, and the target
    ends as one whole file (the last rename wins), with no temporary left."""
    old, new = models
    old_ref, new_ref, _ = references(fmt)
    target = workdir / target_name
    if target_exists:
        place(old_ref, target)
    procs = [subprocess.Popen(convert_args(modelkit_bin, (old, new)[i % 2], target, fmt), stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) for i in range(6)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, f"{fmt}: a concurrent save failed: {err}"
    assert snapshot(target) in (snapshot(old_ref), snapshot(new_ref))
    assert leftovers(workdir, target_name) == []
    check_file(modelkit_bin, fmt, target)
