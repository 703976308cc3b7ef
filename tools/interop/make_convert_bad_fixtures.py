"""Writes the damaged JSON, CSV-dump, safetensors and .npz cases of Fixtures/bad/ (each a few hundred bytes), with
the fragment of the error `modelkit check` must print beside each (`<case>.expect`).

Run from the repository root after `swift build`:  .venv/bin/python tools/interop/make_convert_bad_fixtures.py
The messages are the ones the readers were designed to give (see spec/json-format.md, spec/csv-format.md,
spec/foreign-formats.md); the script only builds the inputs.
"""
import io
import json
import pathlib
import shutil
import struct
import subprocess
import tempfile
import zipfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
BAD = ROOT / "Fixtures" / "bad"
BIN = ROOT / ".build" / "debug" / "modelkit"


def case(folder, name, data, expect):
    d = BAD / folder
    d.mkdir(parents=True, exist_ok=True)
    target = d / name
    if isinstance(data, pathlib.Path):
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(data, target)
    else:
        target.write_bytes(data if isinstance(data, bytes) else data.encode())
    (d / (pathlib.Path(name).stem + ".expect")).write_text(expect + "\n")


def main():
    work = pathlib.Path(tempfile.mkdtemp())
    run = lambda *a: subprocess.run([str(BIN), *map(str, a)], check=True, capture_output=True)
    run("init", "--arch", "2-1", "--seed", "1", "-o", work / "m.mkf")
    run("convert", work / "m.mkf", work / "m.json")
    good = (work / "m.json").read_text()
    doc = json.loads(good)

    # JSON dump.
    case("json", "missing-colon.json", '{"format":"modelkit-json",\n  "version" 1}', ":2:13: expected ':', found '1'")
    broken = good.replace('"data":[', '"data":[1,', 1)
    case("json", "data-count.json", broken, "tensor 'dense/kernel': more than the 2 values its shape holds")
    huge = json.loads(good)
    huge["tensors"][0]["shape"] = [100000000, 100000]
    case("json", "shape-far-beyond-data.json", json.dumps(huge), "declares 10000000000000 values but only")
    f24 = json.loads(good)
    f24["tensors"][0]["dtype"] = "f24"
    case("json", "unknown-dtype.json", json.dumps(f24), "unknown dtype 'f24'")
    v3 = json.loads(good)
    v3["version"] = 3
    case("json", "version-3.json", json.dumps(v3), "modelkit-json version 3 is not supported")
    nan_int = json.loads(good)
    nan_int["tensors"][0]["data"] = ["NaN", 1.5]
    nan_int["tensors"][0]["dtype"] = "i32"
    case("json", "nan-in-integer-tensor.json", json.dumps(nan_int), "integer dtypes hold no NaN or infinity")
    case("json", "trailing-garbage.json", good + "x", "unexpected 'x' after the document")

    # CSV dump folders (a 3-2 model: the kernel file has 3 rows of 2 values).
    run("init", "--arch", "3-2", "--seed", "1", "-o", work / "c.mkf")
    run("convert", work / "c.mkf", work / "dump", "--to", "csv")
    kernel = (work / "dump" / "dense__kernel.csv").read_text()
    rows = kernel.splitlines()
    for name, text, expect in [
        ("ragged-row", "\n".join([rows[0], rows[1].split(",")[0], rows[2]]) + "\n",
         "dense__kernel.csv:2:1: row has 1 values but the first row (line 1) has 2"),
        ("not-a-number", "\n".join([rows[0], rows[1] + "x", rows[2]]) + "\n", "dense__kernel.csv:2:"),
        ("empty-tensor-file", "", "of 0 bytes cannot hold 6 values"),
        ("too-few-rows", "\n".join(rows[:2]) + "\n", "has 2 rows × 2 columns, expected 3 × 2"),
    ]:
        d = work / name
        shutil.copytree(work / "dump", d)
        (d / "dense__kernel.csv").write_text(text)
        case("csv", name, d, expect)
    d = work / "shape-beyond-file"
    shutil.copytree(work / "dump", d)
    manifest = (d / "manifest.csv").read_text().replace("f32,3x2,", "f32,50000x400000,")
    (d / "manifest.csv").write_text(manifest)
    case("csv", "shape-beyond-file", d, "cannot hold 20000000000 values")
    d = work / "unknown-dtype"
    shutil.copytree(work / "dump", d)
    (d / "manifest.csv").write_text((work / "dump" / "manifest.csv").read_text().replace(",f32,3x2,", ",f8,3x2,"))
    case("csv", "unknown-dtype", d, "unknown dtype 'f8'")

    # safetensors.
    def st(header, data):
        h = json.dumps(header, separators=(",", ":")).encode()
        return struct.pack("<Q", len(h)) + h + data
    k = {"dtype": "F32", "shape": [2, 1], "data_offsets": [0, 8]}
    b = {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}
    meta = {"__metadata__": {"format": "modelkit", "architecture": json.dumps(doc["architecture"])}}
    case("safetensors", "hole.safetensors", st({**meta, "dense/kernel": k, "dense/bias": {**b, "data_offsets": [12, 16]}}, bytes(16)),
         "tensor 'dense/bias': bad data range at byte")
    case("safetensors", "overlap.safetensors", st({**meta, "dense/kernel": k, "dense/bias": {**b, "data_offsets": [4, 8]}}, bytes(8)),
         "overlaps the previous tensor")
    case("safetensors", "past-the-end.safetensors", st({**meta, "dense/kernel": k, "dense/bias": b}, bytes(10)),
         "past the end of the 10-byte buffer")
    case("safetensors", "size-disagrees.safetensors", st({**meta, "dense/kernel": {**k, "shape": [3, 1]}, "dense/bias": b}, bytes(12)),
         "needs 12 bytes, data_offsets [0, 8] give 8")
    case("safetensors", "trailing-bytes.safetensors", st({**meta, "dense/kernel": k, "dense/bias": b}, bytes(20)),
         "8 bytes after the last tensor belong to none")
    case("safetensors", "unknown-dtype.safetensors", st({**meta, "dense/kernel": {**k, "dtype": "F8_E4M3", "data_offsets": [0, 2]},
                                                         "dense/bias": {**b, "data_offsets": [2, 6]}}, bytes(6)), "unknown dtype 'F8_E4M3'")
    # A header length beyond the file: detection already sees it is not safetensors (the 100 MB cap itself is
    # tested in SafetensorsTests, where no 100 MB file is needed).
    big = struct.pack("<Q", 200_000_000) + b"{" + bytes(64)
    case("safetensors", "header-length-beyond-file.safetensors", big, "not a safetensors file")

    # npz.
    def npz(members):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
            for name, data in members.items():
                z.writestr(name, data)
        return out.getvalue()
    run("convert", work / "m.mkf", work / "m.npz")
    with zipfile.ZipFile(work / "m.npz") as z:
        members = {n: z.read(n) for n in z.namelist()}
    kernel = members["dense/kernel.npy"]
    case("npz", "truncated-array.npz", npz({**members, "dense/kernel.npy": kernel[:-3]}),
         "needs 8 bytes of data, the array has 5")
    case("npz", "unknown-descr.npz", npz({**members, "dense/kernel.npy": kernel.replace(b"'<f4'", b"'<c8'")}), "unknown dtype '<c8'")
    case("npz", "bad-header-key.npz", npz({**members, "dense/kernel.npy": kernel.replace(b"'fortran_order'", b"'fortran_ordex'")}),
         "unexpected or repeated key 'fortran_ordex'")
    case("npz", "npy-version-9.npz", npz({**members, "dense/kernel.npy": kernel[:6] + b"\x09" + kernel[7:]}), "version 9.0 is not supported")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
