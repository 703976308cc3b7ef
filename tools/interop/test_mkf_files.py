"""`.mkf` files that the CLI writes, read by a reader written from the spec alone (mkf_reader.py) and, after
conversion, by h5py."""
import json

import h5py
import numpy as np
import pytest

import mkf_reader


def test_init_check_inspect_67_parameters(modelkit, workdir):
    modelkit("init", "--arch", "4-8relu-3softmax", "--seed", "1", "-o", "m.mkf", expect=0)
    modelkit("check", "m.mkf", expect=0)
    summary = json.loads(modelkit("inspect", "m.mkf", "--json", expect=0).stdout)
    assert summary["total_params"] == 67
    header, tensors = mkf_reader.read(workdir / "m.mkf")
    assert sum(t.size for t in tensors.values()) == 67


def test_init_is_glorot_uniform_with_zero_biases(modelkit, workdir):
    # Glorot-uniform: U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out)); Keras's default bias is zeros.
    modelkit("init", "--arch", "64-128relu-32tanh-10softmax", "--seed", "7", "-o", "m.mkf", expect=0)
    _, tensors = mkf_reader.read(workdir / "m.mkf")
    for name, t in tensors.items():
        if name.endswith("/bias"):
            assert not t.any(), name
        else:
            fan_in, fan_out = t.shape
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            assert np.abs(t).max() <= limit, name
            # A uniform variable on [-l, l] has variance l^2 / 3; with thousands of samples it is within 15%.
            assert abs(t.var() / (limit * limit / 3) - 1) < 0.15, name


def test_same_seed_same_bytes_other_seed_other_weights(modelkit, workdir):
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        modelkit("init", "--arch", "5-7relu-2", "--optimizer", "sgd:lr=0.1,momentum=0.9", "--seed", seed,
                 "-o", f"{name}.mkf", expect=0)
    a, b, c = ((workdir / f"{n}.mkf").read_bytes() for n in "abc")
    assert a == b
    assert mkf_reader.read(workdir / "a.mkf")[1]["dense/kernel"].tobytes() != \
        mkf_reader.read(workdir / "c.mkf")[1]["dense/kernel"].tobytes()


def test_golden_fixtures_read_by_the_spec_reader(fixtures_dir, modelkit):
    files = sorted((fixtures_dir / "mkf" / "v1").glob("*.mkf"))
    assert files, "no golden .mkf fixtures"
    for path in files:
        header, tensors = mkf_reader.read(path)
        assert len(tensors) == len(header["tensors"])
        modelkit("check", path, expect=0)


@pytest.mark.parametrize("case", ["reserved-preamble-word", "reserved-trailer-word"])
def test_spec_reader_refuses_nonzero_reserved_words_like_check(fixtures_dir, modelkit, case):
    path = fixtures_dir / "bad" / "mkf" / f"{case}.mkf"
    with pytest.raises(mkf_reader.MKFError, match="reserved word"):
        mkf_reader.read(path)
    modelkit("check", path, expect=1)


def test_h5_conversion_holds_the_same_arrays(modelkit, workdir):
    modelkit("init", "--arch", "6-9relu-4softmax", "--optimizer", "adam", "--seed", "2", "-o", "m.mkf", expect=0)
    modelkit("convert", "m.mkf", "m.h5", expect=0)
    _, tensors = mkf_reader.read(workdir / "m.mkf")
    with h5py.File(workdir / "m.h5", "r") as f:
        for name, t in tensors.items():
            stored = f["weights/" + name][()]
            assert stored.dtype == t.dtype and stored.shape == t.shape, name
            assert stored.tobytes() == t.tobytes(), name


@pytest.mark.parametrize("where", ["header", "tensor", "trailer"])
def test_damage_is_caught_by_check_and_by_the_spec_reader(modelkit, workdir, where):
    modelkit("init", "--arch", "4-8relu-3softmax", "--seed", "1", "-o", "m.mkf", expect=0)
    data = bytearray((workdir / "m.mkf").read_bytes())
    header_length = int.from_bytes(data[16:24], "little")
    offset = {"header": 40, "tensor": mkf_reader.align64(32 + header_length) + 3, "trailer": len(data) - 20}[where]
    data[offset] ^= 0x10
    (workdir / "bad.mkf").write_bytes(data)
    proc = modelkit("check", "bad.mkf", expect=1)
    message = proc.stderr.strip()
    assert message and "\n" not in message
    if where == "tensor":
        assert "dense/kernel" in message
    with pytest.raises(mkf_reader.MKFError):
        mkf_reader.read(workdir / "bad.mkf")


def test_inspect_counts_the_slot_tensors_of_a_trained_mkf(modelkit, workdir):
    # Regression: the table said "0 slot tensors" for .mkf, whose header-only read leaves the slots unloaded.
    modelkit("init", "--arch", "3-4relu-2softmax", "--optimizer", "adam", "--loss", "categorical_crossentropy",
             "--seed", "1", "-o", "m.mkf", expect=0)
    (workdir / "x.csv").write_text("0.5,-1,2\n1,0,0.25\n-0.5,0.5,1\n0,1,-1\n")
    (workdir / "y.csv").write_text("1,0\n0,1\n1,0\n0,1\n")
    modelkit("train", "m.mkf", "--x", "x.csv", "--y", "y.csv", "--steps", "2", "--batch-size", "2",
             "-o", "t.mkf", expect=0)
    header, _ = mkf_reader.read(workdir / "t.mkf")
    slots = [t for t in header["tensors"] if t["role"] == "optimizer_slot"]
    assert len(slots) == 8  # momentum and velocity for 2 kernels and 2 biases
    text = modelkit("inspect", "t.mkf", expect=0).stdout
    assert f"iteration 2, {len(slots)} slot tensors" in text
