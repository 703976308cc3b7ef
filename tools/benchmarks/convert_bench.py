#!/usr/bin/env python3
"""JSON and CSV dump speed: ModelKit (release CLI) against orjson + numpy, numpy.savetxt and pandas.read_csv.

Run from the repository root after `swift build -c release` and `tools/setup --python`:

    .venv/bin/python tools/benchmarks/convert_bench.py [--arch 1024-2048-2048-1024] [--dtype f32] [--runs 5]

Both sides work on the same tensors: the model `modelkit init` makes, which Python reads from ModelKit's .npz
export. Each figure is the median of --runs wall-clock timings. ModelKit is timed as whole `modelkit convert`
processes (start-up, reading the source file and writing the target included); Python is timed in-process on the
same job (serialise every tensor and write the file; read the file and build the numpy arrays), so the comparison
favours Python slightly. MB/s is the size of the text (JSON document, or all tensor CSV files) per second.

    JSON dump   modelkit convert m.mkf m.json          vs  orjson.dumps(OPT_SERIALIZE_NUMPY) + write
    JSON load   modelkit check m.json (load + validate)   vs  read + orjson.loads + numpy.asarray(dtype)
    CSV write   modelkit convert m.mkf dump --to csv      vs  numpy.savetxt(delimiter=",") per tensor
    CSV read    modelkit check dump (load + validate)     vs  pandas.read_csv(header=None).to_numpy() per tensor

The loads write nothing (`check` parses every number and validates the model). Every ModelKit save is crash-safe (temporary file,
fsync, rename, folder fsync), so ModelKit's wall-clock figures include fsyncs the Python baselines do not do (a
second table repeats the writes with the baselines fsyncing too); the
CPU-seconds table leaves that waiting out.

Goals (issue 5): JSON dump ≥ 2× orjson, JSON load ≥ 3× orjson, CSV write ≥ 10× numpy.savetxt, CSV read ≥ 3× pandas.
"""
import argparse
import os
import pathlib
import resource
import shutil
import statistics
import subprocess
import tempfile
import time

import numpy as np
import orjson
import pandas as pd

ROOT = pathlib.Path(__file__).resolve().parents[2]


CPU = {}


def median_time(fn, runs):
    """Median wall-clock seconds of `runs` calls; the median CPU seconds (this process's, plus its children's: the
    modelkit processes) go to CPU[fn.__name__]."""
    times, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu0 = time.process_time()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(time.process_time() - cpu0 + (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    CPU[fn.__name__] = statistics.median(cpus)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--arch", default="1024-2048relu-2048relu-1024")
    parser.add_argument("--dtype", default="f32", choices=["f32", "f64"])
    parser.add_argument("--runs", "--repeats", dest="runs", type=int, default=5, help="timed runs per task (median)")
    parser.add_argument("--bin", default=os.environ.get("MODELKIT_BIN", str(ROOT / ".build" / "release" / "modelkit")))
    args = parser.parse_args()
    binary = args.bin
    if not os.access(binary, os.X_OK):
        raise SystemExit(f"{binary} not found: run `swift build -c release` first (or set MODELKIT_BIN)")
    work = pathlib.Path(tempfile.mkdtemp(prefix="convert-bench-"))
    mk = lambda *a: subprocess.run([binary, *map(str, a)], check=True, capture_output=True)
    try:
        mk("init", "--arch", args.arch, "--dtype", args.dtype, "--seed", "1", "-o", work / "m.mkf")
        mk("convert", work / "m.mkf", work / "m.npz")
        npz = np.load(work / "m.npz", allow_pickle=False)
        names = [n for n in npz.files if n != "__modelkit__"]
        tensors = {n: npz[n] for n in names}
        count = sum(t.size for t in tensors.values())
        print(f"model {args.arch} {args.dtype}: {len(names)} tensors, {count:,} values, "
              f"{sum(t.nbytes for t in tensors.values()) / 1e6:.1f} MB binary; median of {args.runs} runs\n")
        np_type = np.float64 if args.dtype == "f64" else np.float32

        # JSON dump.
        def mk_json_dump():
            mk("convert", work / "m.mkf", work / "m.json")
        t_mk_dump = median_time(mk_json_dump, args.runs)
        json_bytes = (work / "m.json").stat().st_size

        def orjson_dump():
            doc = {"tensors": [{"name": n, "dtype": args.dtype, "shape": list(t.shape), "data": t} for n, t in tensors.items()]}
            (work / "orjson.json").write_bytes(orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY))
        t_or_dump = median_time(orjson_dump, args.runs)
        orjson_bytes = (work / "orjson.json").stat().st_size

        # The same, made as durable as ModelKit's save (fsync of the file before it counts as written).
        def orjson_dump_durable():
            doc = {"tensors": [{"name": n, "dtype": args.dtype, "shape": list(t.shape), "data": t} for n, t in tensors.items()]}
            with open(work / "orjson.json", "wb") as f:
                f.write(orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY))
                f.flush()
                os.fsync(f.fileno())
        t_or_dump_durable = median_time(orjson_dump_durable, args.runs)

        # JSON load (ours parsed by both: orjson reads the same document ModelKit reads).
        # `check` loads the whole dump and validates it against the architecture, writing nothing.
        def mk_json_load():
            mk("check", work / "m.json")
        t_mk_load = median_time(mk_json_load, args.runs)

        def orjson_load():
            doc = orjson.loads((work / "m.json").read_bytes())
            return [np.asarray(t["data"], dtype=np_type).reshape(t["shape"]) for t in doc["tensors"]]
        t_or_load = median_time(orjson_load, args.runs)

        # CSV write.
        def mk_csv_write():
            shutil.rmtree(work / "dump", ignore_errors=True)
            mk("convert", work / "m.mkf", work / "dump", "--to", "csv")
        t_mk_csv_write = median_time(mk_csv_write, args.runs)
        csv_files = [p for p in (work / "dump").glob("*.csv") if p.name != "manifest.csv"]
        csv_bytes = sum(p.stat().st_size for p in csv_files)
        (work / "savetxt").mkdir()

        def savetxt():
            for n, t in tensors.items():
                np.savetxt(work / "savetxt" / (n.replace("/", "__") + ".csv"), t.reshape(1, -1) if t.ndim == 1 else t, delimiter=",")
        t_np_write = median_time(savetxt, max(1, min(args.runs, 3)))

        def savetxt_durable():
            for n, t in tensors.items():
                with open(work / "savetxt" / (n.replace("/", "__") + ".csv"), "wb") as f:
                    np.savetxt(f, t.reshape(1, -1) if t.ndim == 1 else t, delimiter=",")
                    f.flush()
                    os.fsync(f.fileno())
        t_np_write_durable = median_time(savetxt_durable, max(1, min(args.runs, 3)))
        savetxt_bytes = sum(p.stat().st_size for p in (work / "savetxt").glob("*.csv"))

        # CSV read (both read ModelKit's files).
        def mk_csv_read():
            mk("check", work / "dump")
        t_mk_csv_read = median_time(mk_csv_read, args.runs)

        def pandas_read():
            return [pd.read_csv(p, header=None).to_numpy(dtype=np_type) for p in csv_files]
        t_pd_read = median_time(pandas_read, args.runs)

        rows = [
            ("JSON dump", json_bytes, t_mk_dump, "orjson.dumps", orjson_bytes, t_or_dump, 2, "mk_json_dump", "orjson_dump"),
            ("JSON load", json_bytes, t_mk_load, "orjson.loads+numpy", json_bytes, t_or_load, 3, "mk_json_load", "orjson_load"),
            ("CSV write", csv_bytes, t_mk_csv_write, "numpy.savetxt", savetxt_bytes, t_np_write, 10, "mk_csv_write", "savetxt"),
            ("CSV read", csv_bytes, t_mk_csv_read, "pandas.read_csv", csv_bytes, t_pd_read, 3, "mk_csv_read", "pandas_read"),
        ]
        print("wall clock (what the goals are about):")
        print(f"{'task':<10} {'modelkit':>22} {'baseline':>38} {'ratio':>7} {'goal':>6}")
        for task, mb, t, base, bb, bt, goal, _, _ in rows:
            ratio = bt / t
            print(f"{task:<10} {t * 1000:8.0f} ms {mb / t / 1e6:7.0f} MB/s   {base:<19}{bt * 1000:7.0f} ms {bb / bt / 1e6:6.0f} MB/s "
                  f"{ratio:6.1f}x {'>=' + str(goal) + 'x':>6} {'ok' if ratio >= goal else 'MISSED'}")
        print("\nwrites with the baselines as durable as ModelKit's saves (fsync of every file written):")
        for task, t, base, bt in [("JSON dump", t_mk_dump, "orjson.dumps+fsync", t_or_dump_durable),
                                  ("CSV write", t_mk_csv_write, "numpy.savetxt+fsync", t_np_write_durable)]:
            print(f"{task:<10} {t * 1000:8.0f} ms   {base:<21}{bt * 1000:7.0f} ms {bt / t:6.1f}x")
        print("\nCPU seconds (user + system, all threads; steadier than wall clock on a busy machine):")
        for task, _, _, base, _, _, _, mine, theirs in rows:
            print(f"{task:<10} modelkit {CPU[mine] * 1000:7.0f} ms   {base:<19}{CPU[theirs] * 1000:7.0f} ms   ratio {CPU[theirs] / CPU[mine]:5.1f}x")
        print(f"\nload average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"\ntext sizes: ModelKit JSON {json_bytes / 1e6:.1f} MB, orjson JSON {orjson_bytes / 1e6:.1f} MB, "
              f"ModelKit CSV {csv_bytes / 1e6:.1f} MB, savetxt CSV {savetxt_bytes / 1e6:.1f} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
