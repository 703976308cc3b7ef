"""Writes the damaged and hostile HDF5 / .keras files in Fixtures/bad/ (each a few KB), derived from the Keras
reference models in Fixtures/keras/ and a ModelKit .h5 made from Fixtures/mkf/v1/dense-f32.mkf.
Run from the repository root after `swift build`:  .venv/bin/python tools/interop/make_bad_fixtures.py
Tests/ConvertTests/BadFileTests.swift states the error each must produce.
"""
import io
import json
import pathlib
import shutil
import subprocess
import zipfile

import h5py
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
BAD = ROOT / "Fixtures" / "bad"
ADAM = ROOT / "Fixtures" / "keras" / "adam-classifier"


# What `modelkit check` must print for each file (a fragment of its one-line error).
EXPECT = {
    "keras-h5/truncated.h5": "truncated file",
    "keras-h5/config-not-a-string.h5": "@model_config must be a string",
    "keras-h5/config-bad-json.h5": "model_config:2:",
    "keras-h5/no-model-weights.h5": "/model_weights is missing",
    "keras-h5/shape-disagrees.h5": "tensor 'hidden1/kernel': shape mismatch, expected [4, 9]",
    "keras-h5/kernel-is-text.h5": "hidden2/kernel (weights must be floating point)",
    "keras-h5/missing-layer-group.h5": "/model_weights/probs is missing",
    "keras-h5/unknown-optimizer-variable.h5": "sequential_mystery_kernel_momentum",
    "keras-h5/unknown-layer.h5": "layer 'hidden2' of Keras class 'Conv1D'",
    "keras-h5/huge-unwritten-kernel.h5": "needs 6442450944 bytes, only 0 remain",
    "h5/version-2.h5": "ModelKit HDF5 layout version int(2) is not supported",
    "h5/dtype-attribute-lies.h5": "the dataset holds 32-bit float, not f16",
    "h5/missing-tensor.h5": "missing tensor 'dense_1/bias'",
    "h5/extra-tensor.h5": "unexpected tensor '/weights/dense/extra'",
    "h5/attribute-disagrees.h5": "/architecture/layers/dense@units is int(5) but the JSON says int(2)",
    "h5/architecture-not-a-string.h5": "/architecture@architecture_json must be a string",
    "h5/shape-disagrees.h5": "tensor 'dense/bias': shape mismatch, expected [2]",
    "h5/global-heap-free-space-of-size-zero.h5": "libhdf5 would never finish reading it",
    # Found by a mutation run (bytes flipped in a ModelKit .h5): libhdf5 1.10 copies past the heap and crashes.
    # Kept as committed; not regenerated here.
    "h5/global-heap-object-past-collection-end.h5": "past the collection's end",
    # Found by a mutation run: one byte of a variable-length string's length in adam-classifier/model.h5 set to 0xdd;
    # libhdf5 1.10 then allocates and clears 3.7 GB. Kept as committed; not regenerated here.
    "keras-h5/vlen-length-forged.h5": "corrupt variable-length data at byte 23688",
    # Found by a mutation run: one byte of a descriptor's object index in rmsprop-batchnorm/model.h5 set to 0xbd;
    # libhdf5 1.10 indexes past its heap table and segfaults. Only the CLI's child-process isolation catches it.
    "keras-h5/vlen-index-forged.h5": "the HDF5 library crashed",
    "keras/truncated.keras": "not a readable zip archive",
    "keras/dotdot.keras": "zip member '../evil.txt' has an absolute path or a '..' component",
    "keras/no-weights.keras": "zip member 'model.weights.h5'",
    "keras/weights-not-hdf5.keras": "file signature not found",
    "keras/bomb.keras": "a zip bomb?",
    "keras/bomb-forged-size.keras": "inflates past its declared 4096 bytes",
}


def keras_copy(name):
    path = BAD / name
    shutil.copy(ADAM / "model.h5", path)
    path.chmod(0o644)
    return path


def edit_config(f, change):
    config = json.loads(f.attrs["model_config"])
    change(config)
    f.attrs["model_config"] = json.dumps(config)


def main():
    for folder in ("h5", "keras-h5", "keras"):
        (BAD / folder).mkdir(parents=True, exist_ok=True)
    source = (ADAM / "model.h5").read_bytes()

    # Keras legacy .h5
    (BAD / "keras-h5/truncated.h5").write_bytes(source[:3000])
    with h5py.File(keras_copy("keras-h5/config-not-a-string.h5"), "r+") as f:
        f.attrs["model_config"] = np.int64(7)
    with h5py.File(keras_copy("keras-h5/config-bad-json.h5"), "r+") as f:
        f.attrs["model_config"] = '{"class_name": "Sequential",\n "config": {"layers": [}'
    with h5py.File(keras_copy("keras-h5/no-model-weights.h5"), "r+") as f:
        del f["model_weights"]
    with h5py.File(keras_copy("keras-h5/shape-disagrees.h5"), "r+") as f:
        edit_config(f, lambda c: c["config"]["layers"][1]["config"].update(units=9))
    with h5py.File(keras_copy("keras-h5/kernel-is-text.h5"), "r+") as f:
        path = "model_weights/hidden2/sequential/hidden2/kernel"
        del f[path]
        f.create_dataset(path, data=np.array([b"not numbers"] * 48).reshape(8, 6))
    with h5py.File(keras_copy("keras-h5/missing-layer-group.h5"), "r+") as f:
        del f["model_weights/probs"]
    with h5py.File(keras_copy("keras-h5/unknown-optimizer-variable.h5"), "r+") as f:
        names = list(f["optimizer_weights"].attrs["weight_names"]) + ["adam/sequential_mystery_kernel_momentum"]
        f["optimizer_weights"].attrs["weight_names"] = names
        f["optimizer_weights/adam/sequential_mystery_kernel_momentum"] = np.zeros(3, np.float32)
    with h5py.File(keras_copy("keras-h5/unknown-layer.h5"), "r+") as f:
        edit_config(f, lambda c: c["config"]["layers"][2].update(class_name="Conv1D"))
    with h5py.File(keras_copy("keras-h5/huge-unwritten-kernel.h5"), "r+") as f:
        # The config claims 2^28 units; the kernel dataset has that shape but no data was ever written
        # (4 GiB as float32 if a reader trusted the shape and allocated it).
        edit_config(f, lambda c: c["config"]["layers"][3]["config"].update(units=1 << 28))
        for name in ("kernel", "bias"):
            path = f"model_weights/probs/sequential/probs/{name}"
            del f[path]
            shape = (6, 1 << 28) if name == "kernel" else (1 << 28,)
            f.create_dataset(path, shape=shape, dtype="f4", chunks=(1,) * (len(shape) - 1) + (1024,))
        del f["optimizer_weights"]

    # ModelKit's layout
    ours = BAD / "h5" / "source.h5"
    subprocess.run([str(ROOT / ".build" / "debug" / "modelkit"), "convert", str(ROOT / "Fixtures" / "mkf" / "v1" / "dense-f32.mkf"),
                    str(ours)], check=True, capture_output=True)

    def ours_copy(name):
        path = BAD / name
        shutil.copy(ours, path)
        return path

    with h5py.File(ours_copy("h5/version-2.h5"), "r+") as f:
        f.attrs["format_version"] = np.int64(2)
    with h5py.File(ours_copy("h5/dtype-attribute-lies.h5"), "r+") as f:
        f["weights/dense/kernel"].attrs["dtype"] = "f16"
    with h5py.File(ours_copy("h5/missing-tensor.h5"), "r+") as f:
        del f["weights/dense_1/bias"]
    with h5py.File(ours_copy("h5/extra-tensor.h5"), "r+") as f:
        f["weights/dense/extra"] = np.zeros(2, np.float32)
    with h5py.File(ours_copy("h5/attribute-disagrees.h5"), "r+") as f:
        f["architecture/layers/dense"].attrs["units"] = np.int64(5)
    with h5py.File(ours_copy("h5/architecture-not-a-string.h5"), "r+") as f:
        f["architecture"].attrs["architecture_json"] = np.float64(1.5)
    with h5py.File(ours_copy("h5/shape-disagrees.h5"), "r+") as f:
        del f["weights/dense/bias"]
        f.create_dataset("weights/dense/bias", data=np.zeros(3, np.float32))
        f["weights/dense/bias"].attrs["dtype"] = "f32"
        f["weights/dense/bias"].attrs["crc32c"] = np.int64(0)
    ours.unlink()
    # Found by tools/fuzz: libhdf5 1.10 loops forever on this global heap; the reader must refuse it first.
    shutil.copy(ROOT / "Fixtures" / "fuzz" / "regressions" / "hdf5-layout-global-heap-hang.h5",
                BAD / "h5" / "global-heap-free-space-of-size-zero.h5")

    # .keras zips
    keras_zip = (ADAM / "model.keras").read_bytes()
    (BAD / "keras/truncated.keras").write_bytes(keras_zip[: len(keras_zip) // 2])
    with zipfile.ZipFile(io.BytesIO(keras_zip)) as z:
        members = {name: z.read(name) for name in z.namelist()}

    def write_zip(name, entries, compression=zipfile.ZIP_STORED):
        with zipfile.ZipFile(BAD / name, "w", compression) as z:
            for member, data in entries.items():
                z.writestr(member, data)

    write_zip("keras/dotdot.keras", {**members, "../evil.txt": b"x"})
    write_zip("keras/no-weights.keras", {k: v for k, v in members.items() if k != "model.weights.h5"})
    write_zip("keras/weights-not-hdf5.keras", {**members, "model.weights.h5": b"this is not an HDF5 file" * 10})
    # 32 MiB of zeros deflate to ~32 KB: a ratio of about 1000, far past the reader's cap of 200.
    write_zip("keras/bomb.keras", {**members, "model.weights.h5": bytes(32 << 20)}, zipfile.ZIP_DEFLATED)
    # The same member with its declared uncompressed size forged down to 4096 bytes (local header and central
    # directory): only counting the bytes inflation actually produces catches it.
    bomb = bytearray((BAD / "keras/bomb.keras").read_bytes())
    real = (32 << 20).to_bytes(4, "little")
    forged = (4096).to_bytes(4, "little")
    patched = 0
    for signature, size_offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = bomb.find(signature)
        while at >= 0:
            if bomb[at + size_offset: at + size_offset + 4] == real:
                bomb[at + size_offset: at + size_offset + 4] = forged
                patched += 1
            at = bomb.find(signature, at + 4)
    assert patched == 2, patched
    (BAD / "keras/bomb-forged-size.keras").write_bytes(bytes(bomb))


if __name__ == "__main__":
    main()
    for name, fragment in EXPECT.items():
        (BAD / name).with_suffix(".expect").write_text(fragment + "\n")
