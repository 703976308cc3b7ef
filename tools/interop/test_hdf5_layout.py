"""h5py reads every tensor of a ModelKit .h5 (spec/hdf5-layout.md) with no ModelKit code.

Each golden model is written twice by ModelKit, as our HDF5 layout and as a JSON dump (spec/json-format.md, read here
with the json module). Every tensor of the dump must be in the .h5 at the path the spec gives, with the spec's
attributes and the same values; the file must hold nothing else; CRC-32C is recomputed here from the bytes h5py reads.
"""
import json

import h5py
import numpy as np
import pytest

from mkf_reader import crc32c  # the spec-only CRC-32C, shared with the independent .mkf reader

GOLDEN = ["dense-f32", "checkpoint-f64", "half-precision"]


def test_crc32c_matches_the_published_check_value():
    # RFC 3720 / the CRC catalogue: CRC-32C("123456789") = 0xE3069283.
    assert crc32c(b"123456789") == 0xE3069283


NUMPY = {"f16": "<f2", "f32": "<f4", "f64": "<f8", "i8": "i1", "u8": "u1", "i16": "<i2", "i32": "<i4", "i64": "<i8",
         "bf16": "<u2", "bool": "?"}


def expected_array(tensor):
    data = np.array([np.nan if v == "NaN" else np.inf if v == "Infinity" else -np.inf if v == "-Infinity" else v
                     for v in tensor["data"]], dtype=np.float64).reshape(tensor["shape"])
    if tensor["dtype"] == "bf16":
        # bf16 values are exact in f32; their bit pattern is the top half of the f32's.
        return (data.astype("<f4").view("<u4") >> 16).astype("<u2")
    return data.astype(NUMPY[tensor["dtype"]])


def h5_path(tensor):
    if tensor["role"] == "weight":
        return "weights/" + tensor["name"]
    return f"optimizer/slots/{tensor['parameter']}/{tensor['slot']}"


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("name", GOLDEN)
def test_h5py_finds_every_tensor_by_the_spec_names(modelkit, workdir, fixtures_dir, name, compress):
    source = fixtures_dir / "mkf" / "v1" / f"{name}.mkf"
    modelkit("convert", source, "model.h5", *(["--compress"] if compress else []), expect=0)
    modelkit("convert", source, "model.json", expect=0)
    dump = json.loads((workdir / "model.json").read_text())

    with h5py.File(workdir / "model.h5", "r") as f:
        assert f.attrs["format"] == "modelkit-hdf5"
        assert f.attrs["format_version"] == 1
        assert json.loads(f["architecture"].attrs["architecture_json"]) == dump["architecture"]
        assert list(f["architecture"].attrs["layer_names"]) == [layer["name"] for layer in dump["architecture"]["layers"]]
        for layer in dump["architecture"]["layers"]:
            attrs = f["architecture/layers"][layer["name"]].attrs
            assert attrs["type"] == layer["type"]
            if "units" in layer:
                assert attrs["units"] == layer["units"]

        datasets = []
        f.visititems(lambda path, obj: datasets.append(path) if isinstance(obj, h5py.Dataset) else None)
        assert sorted(datasets) == sorted(h5_path(t) for t in dump["tensors"])

        for tensor in dump["tensors"]:
            d = f[h5_path(tensor)]
            assert d.attrs["dtype"] == tensor["dtype"]
            assert list(d.shape) == tensor["shape"]
            values = d[()]
            expected = expected_array(tensor)
            assert values.dtype == expected.dtype, h5_path(tensor)
            np.testing.assert_array_equal(values, expected, err_msg=h5_path(tensor))
            if tensor["dtype"] not in ("bf16", "bool"):
                # Same bits, not just equal values (-0.0 and NaN).
                assert values.tobytes() == expected.tobytes()
            assert d.attrs["crc32c"] == crc32c(np.ascontiguousarray(values).astype(values.dtype.newbyteorder("<")).tobytes())
            if compress and values.size > 0 and values.ndim > 0:
                assert d.compression == "gzip" and d.shuffle
            else:
                assert d.compression is None

        if dump.get("optimizer"):
            assert json.loads(f["optimizer"].attrs["optimizer_json"]) == dump["optimizer"]
            assert f["optimizer"].attrs["iteration"] == dump["optimizer"]["iteration"]
        else:
            assert "optimizer" not in f
        if dump.get("training"):
            training = f["training"].attrs
            assert json.loads(training["training_json"]) == dump["training"]
            assert training["step"] == dump["training"]["step"]
            assert [int(w) for w in training["rng_state"]] == [int(w) for w in dump["training"]["rng"]["state"]]
            assert list(training["loss_history"]) == dump["training"]["loss_history"]
            assert bool(training["shuffle"]) == dump["training"]["shuffle"]
        metadata = json.loads(f["metadata"].attrs["metadata_json"])
        assert metadata == json.loads(json.dumps(dump.get("metadata", {})))
        for key, value in metadata.items():
            kind, inner = next(iter(value.items()))
            if kind in ("string", "int", "bool"):
                assert f["metadata/entries"].attrs[key] == inner


def test_a_damaged_tensor_is_named_by_check(modelkit, workdir, fixtures_dir):
    modelkit("convert", fixtures_dir / "mkf" / "v1" / "dense-f32.mkf", "model.h5", expect=0)
    with h5py.File(workdir / "model.h5", "r+") as f:
        f["weights/dense_1/kernel"][0, 0] = 42.0  # h5py writes; the stored crc32c is now stale
    result = modelkit("check", "model.h5", expect=1)
    assert "dense_1/kernel" in result.stderr
