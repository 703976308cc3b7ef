""".mkf save and load beside safetensors, h5py and NumPy (.npz and one .npy per tensor), on the same tensors.

The tensors: a Glorot-initialised 1024-4096relu-4096relu-1024relu-10softmax MLP with Adam's two slots per parameter
(float32, about 300 MB in 8 weight and 16 slot tensors), made by `mkf-bench`, which also times .mkf itself and writes the raw
tensors out so that every format here stores the very same bytes.

Save: the file written whole; "durable" adds what .mkf's atomic save always does (fsync of the file; .mkf also writes
a temporary file, renames it and fsyncs the folder). Load: until every tensor is usable in memory. .mkf's load
memory-maps and copies nothing, so it is also shown with one read per 4 KiB page ("touch"), which is the least any
use of the weights costs; np.load(mmap_mode="r") is its NumPy counterpart. Every figure is the median of --repeats
runs, each after a sync(), taken in turns (every measurement once per round), files warm in the page cache (the machine's disk is not what is compared). The memcpy line measures this
machine's copy bandwidth (NumPy copyto of 256 MiB), the ceiling for any load that copies.

    .venv/bin/python tools/benchmarks/mkf_bench.py [--repeats 5] [--arch SPEC] [--no-build] [--json OUT]
"""
import argparse
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]


def timed(fn, remove=()):
    """Seconds of fn(); before it (untimed) the files in `remove` are deleted, so that every save writes a new file
    as .mkf's atomic save does, and sync() empties the writeback queue."""
    for p in remove:
        pathlib.Path(p).unlink(missing_ok=True)
    os.sync()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_time(fn, repeats, remove=()):
    return statistics.median(timed(fn, remove) for _ in range(repeats))


def fsync_path(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def touch_pages(arrays):
    total = 0
    for a in arrays:
        flat = a.reshape(-1).view(np.uint8)
        total += int(flat[::4096].sum())
    return total


def memcpy_gbps(repeats):
    src = np.ones(256 << 20, dtype=np.uint8)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    return src.nbytes / median_time(lambda: np.copyto(dst, src), repeats) / 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--arch", default="1024-4096relu-4096relu-1024relu-10softmax")
    parser.add_argument("--dir", default=str(ROOT / ".build" / "bench" / "mkf"))
    parser.add_argument("--no-build", action="store_true", help="use the existing release build")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    work = pathlib.Path(args.dir)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    if not args.no_build:
        subprocess.run(["swift", "build", "-c", "release", "--product", "mkf-bench"], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    bench = str(ROOT / ".build" / "release" / "mkf-bench")
    subprocess.run([bench, "prepare", "--dir", str(work), "--arch", args.arch], check=True)

    raw = (work / "tensors.bin").read_bytes()
    manifest = json.loads((work / "tensors.json").read_text())
    assert all(e["dtype"] == "f32" for e in manifest)
    tensors = {e["name"]: np.frombuffer(raw, dtype="<f4", count=e["length"] // 4, offset=e["offset"])
               .reshape(e["shape"]).copy() for e in manifest}
    del raw
    total = sum(t.nbytes for t in tensors.values())
    names = list(tensors)

    import h5py
    from safetensors.numpy import load_file, save_file

    st_path, h5_path, npz_path, npy_dir = work / "m.safetensors", work / "m.h5", work / "m.npz", work / "npy"
    npy_dir.mkdir()
    npy_files = {n: npy_dir / (n.replace("/", "__") + ".npy") for n in names}

    def mkf(op):
        out = subprocess.run([bench, "time", op, "--dir", str(work)], check=True, capture_output=True, text=True)
        return float(out.stdout)

    def h5_save():
        with h5py.File(h5_path, "w") as f:
            for n, t in tensors.items():
                f.create_dataset(n, data=t)

    def h5_load():
        with h5py.File(h5_path, "r") as f:
            return {n: f[n][()] for n in names}

    def npy_save():
        for n, t in tensors.items():
            np.save(npy_files[n], t)

    def npz_load():
        with np.load(npz_path) as z:
            return {n: z[n] for n in z.files}

    def durable(save, files):
        def run():
            save()
            for p in files:
                fsync_path(p)
        return run

    savers = {
        "safetensors": (lambda: save_file(tensors, str(st_path)), [st_path]),
        "h5py": (h5_save, [h5_path]),
        "npz (np.savez)": (lambda: np.savez(npz_path, **{n.replace("/", "__"): t for n, t in tensors.items()}),
                           [npz_path]),
        "npy (one per tensor)": (npy_save, list(npy_files.values())),
    }
    loaders = {
        "safetensors": lambda: load_file(str(st_path)),
        "h5py": h5_load,
        "npz (np.savez)": npz_load,
        "npy (one per tensor)": lambda: {n: np.load(p) for n, p in npy_files.items()},
    }
    # Every measurement, as (format, figure) -> a function returning seconds; each round runs all of them once.
    runs = {(".mkf", figure): (lambda op=op: mkf(op)) for figure, op in
            (("save", "save_nosync"), ("save_durable", "save"), ("load", "load_verify"),
             ("load_unverified", "load"), ("load_unverified_touch", "load_touch"))}
    for name, (save, files) in savers.items():
        runs[(name, "save")] = lambda save=save, files=files: timed(save, files)
        runs[(name, "save_durable")] = lambda save=save, files=files: timed(durable(save, files), files)
        runs[(name, "load")] = lambda load=loaders[name]: timed(load)
    runs[("npy (one per tensor)", "load_mmap_touch")] = lambda: timed(
        lambda: touch_pages([np.load(p, mmap_mode="r") for p in npy_files.values()]))
    samples = {key: [] for key in runs}
    for _ in range(args.repeats):
        for key, run in runs.items():
            samples[key].append(run())
    rows = {}
    for (name, figure), values in samples.items():
        rows.setdefault(name, {})[figure] = statistics.median(values)
    rows[".mkf"]["bytes"] = (work / "model.mkf").stat().st_size
    for name, (_, files) in savers.items():
        rows[name]["bytes"] = sum(p.stat().st_size for p in files)

    # What was timed holds the right bytes: .mkf's writer is deterministic, safetensors round-trips.
    assert (work / "saved.mkf").read_bytes() == (work / "model.mkf").read_bytes()
    for n, t in load_file(str(st_path)).items():
        assert t.tobytes() == tensors[n].tobytes(), n

    ceiling = memcpy_gbps(args.repeats)
    mb = total / 1e6
    print(f"{len(tensors)} float32 tensors, {mb:.0f} MB ({args.arch} with Adam slots); "
          f"median of {args.repeats}, warm page cache; load average before/after {load_before:.1f}/"
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus")
    print(f"memcpy ceiling on this machine: {ceiling:.1f} GB/s ({total / ceiling / 1e9 * 1e3:.0f} ms to copy "
          f"{mb:.0f} MB once)")
    print()
    print(f"{'format':<22}{'save ms':>9}{'GB/s':>7}{'vs mkf':>8}{'durable ms':>12}{'load ms':>9}{'GB/s':>7}"
          f"{'vs mkf':>8}{'file MB':>9}")
    base = rows[".mkf"]
    for name, r in rows.items():
        print(f"{name:<22}{r['save'] * 1e3:9.0f}{total / r['save'] / 1e9:7.2f}{r['save'] / base['save']:8.2f}"
              f"{r['save_durable'] * 1e3:12.0f}{r['load'] * 1e3:9.0f}{total / r['load'] / 1e9:7.2f}"
              f"{r['load'] / base['load']:8.2f}{r['bytes'] / 1e6:9.1f}")
    print()
    print(f".mkf load without checksum verification: {base['load_unverified'] * 1e3:.1f} ms (memory-mapped, no data "
          f"read); with one read per 4 KiB page: {base['load_unverified_touch'] * 1e3:.1f} ms")
    print(f".npy np.load(mmap_mode='r') with one read per 4 KiB page: "
          f"{rows['npy (one per tensor)']['load_mmap_touch'] * 1e3:.1f} ms")
    print(".mkf save includes its CRC32C pass; 'durable' is .mkf's default save (temporary file, fsync, rename, "
          "fsync of the folder), the others plus an fsync of each file")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps({"tensor_bytes": total, "memcpy_gbps": ceiling, "rows": rows},
                                                      indent=1))


if __name__ == "__main__":
    main()
