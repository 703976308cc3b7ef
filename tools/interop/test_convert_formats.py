"""Interop for the dump and exchange formats (issue 5): JSON, CSV folder, safetensors, .npz, ONNX.

Every check reads ModelKit's output with a library nobody here wrote (json + numpy, jsonschema, numpy.loadtxt,
pandas, the safetensors library, numpy.load, onnxruntime) and compares across them, so an error in one writer shows
up as a disagreement with the others.
"""
import json
import pathlib

import numpy as np
import pandas as pd
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "spec" / "modelkit.schema.json").read_text())
NP_DTYPES = {"f16": np.float16, "f32": np.float32, "f64": np.float64, "i8": np.int8, "u8": np.uint8,
             "i16": np.int16, "i32": np.int32, "i64": np.int64, "bool": np.uint8}


def json_float(v):
    return {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}.get(v, v) if isinstance(v, str) else v


def json_tensors(path):
    doc = json.loads(pathlib.Path(path).read_text())
    return doc, {t["name"]: np.array([json_float(v) for v in t["data"]], dtype=np.float64)
                 .astype(NP_DTYPES[t["dtype"]]).reshape(t["shape"]) for t in doc["tensors"]}


def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.fixture(scope="module", params=["f32", "f64"])
def checkpoint(request, modelkit_bin, module_dir):
    """A model with BatchNorm, LayerNorm and Adam state after three training steps, in f32 or f64."""
    import subprocess
    dtype = request.param
    d = module_dir / dtype
    d.mkdir()
    rng = np.random.default_rng(5)
    x = rng.normal(size=(12, 4))
    y = np.eye(3)[rng.integers(0, 3, size=12)]
    np.savetxt(d / "x.csv", x, delimiter=",")
    np.savetxt(d / "y.csv", y, delimiter=",")
    run = lambda *a: subprocess.run([str(modelkit_bin), *map(str, a)], check=True, capture_output=True, text=True)
    run("init", "--arch", "4-8relu-bn-6tanh-ln-3softmax", "--loss", "categorical_crossentropy", "--optimizer",
        "adam:lr=0.01", "--dtype", dtype, "--seed", "3", "-o", d / "init.mkf")
    run("train", d / "init.mkf", "--x", d / "x.csv", "--y", d / "y.csv", "--steps", "3", "--batch-size", "4",
        "-o", d / "m.mkf")
    for fmt, name in [("json", "m.json"), ("csv", "dump"), ("safetensors", "m.safetensors"), ("npz", "m.npz")]:
        run("convert", d / "m.mkf", d / name, "--to", fmt)
    return d, dtype


def test_json_validates_against_the_schema_and_loads_with_numpy(checkpoint):
    import jsonschema
    d, dtype = checkpoint
    doc, tensors = json_tensors(d / "m.json")
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)
    assert doc["format"] == "modelkit-json" and doc["optimizer"]["type"] == "adam" and doc["optimizer"]["iteration"] == 3
    assert any(t["role"] == "optimizer_slot" for t in doc["tensors"])
    # The same tensors, bit for bit, as numpy.load reads them from the .npz export.
    npz = np.load(d / "m.npz", allow_pickle=False)
    assert set(tensors) == set(npz.files) - {"__modelkit__"}
    for name, value in tensors.items():
        assert value.dtype == np.dtype(NP_DTYPES[dtype]), name
        assert same_bits(value, npz[name]), name


def test_json_and_csv_round_trips_are_identical(checkpoint, modelkit):
    d, _ = checkpoint
    for source in ["m.json", "dump", "m.safetensors", "m.npz"]:
        back = d / f"back-{source.replace('.', '-')}.mkf"
        modelkit("convert", d / source, back, expect=0)
        modelkit("diff", d / "m.mkf", back, expect=0)
        # The .mkf writer is deterministic: identical content gives identical bytes.
        assert back.read_bytes() == (d / "m.mkf").read_bytes(), source


def test_every_csv_tensor_loads_in_numpy_and_pandas(checkpoint):
    d, dtype = checkpoint
    manifest = pd.read_csv(d / "dump" / "manifest.csv", dtype=str, keep_default_na=False)
    assert list(manifest.columns) == ["name", "role", "dtype", "shape", "file"]
    npz = np.load(d / "m.npz", allow_pickle=False)
    assert len(manifest) == len(npz.files) - 1
    for row in manifest.itertuples():
        path = d / "dump" / row.file
        shape = [] if row.shape == "scalar" else [int(s) for s in row.shape.split("x")]
        expected = npz[row.name]
        assert list(expected.shape) == shape
        loaded = np.loadtxt(path, delimiter=",", ndmin=2)
        grid = (1, shape[0]) if len(shape) == 1 else (shape[0], int(np.prod(shape[1:])))
        assert loaded.shape == grid, row.name
        assert same_bits(loaded.astype(expected.dtype).reshape(expected.shape), expected), row.name
        frame = pd.read_csv(path, header=None)
        assert frame.shape == grid
        assert same_bits(frame.to_numpy(dtype=np.float64).astype(expected.dtype).reshape(expected.shape), expected), row.name


def test_safetensors_library_loads_our_file(checkpoint):
    from safetensors import safe_open
    from safetensors.numpy import load_file
    d, dtype = checkpoint
    tensors = load_file(str(d / "m.safetensors"))
    _, from_json = json_tensors(d / "m.json")
    assert set(tensors) == set(from_json)
    for name, value in tensors.items():
        assert same_bits(value, from_json[name]), name
    with safe_open(str(d / "m.safetensors"), framework="numpy") as f:
        meta = f.metadata()
    assert meta["format"] == "modelkit"
    assert json.loads(meta["architecture"])["input_shape"] == [4]
    assert json.loads(meta["optimizer"])["type"] == "adam"
    assert "loss" in json.loads(meta["training"])


def test_numpy_reads_our_npz(checkpoint):
    d, dtype = checkpoint
    npz = np.load(d / "m.npz", allow_pickle=False)
    state = json.loads(bytes(npz["__modelkit__"]).decode("utf-8"))
    assert state["format"] == "modelkit-npz" and state["architecture"]["layers"][0]["units"] == 8
    assert npz["dense/kernel"].shape == (4, 8) and npz["dense/kernel"].dtype == np.dtype(NP_DTYPES[dtype])


def test_half_precision_through_safetensors_json_csv(workdir, modelkit):
    """F16 weights written by the safetensors library come through JSON and CSV bit for bit."""
    from safetensors.numpy import save_file
    rng = np.random.default_rng(1)
    weights = {"0.weight": rng.normal(size=(5, 3)).astype(np.float16), "0.bias": rng.normal(size=5).astype(np.float16)}
    weights["0.weight"][0, :3] = [np.float16(-0.0), np.float16(6e-08), np.float16(65504)]
    save_file(weights, str(workdir / "h.safetensors"))
    modelkit("convert", "h.safetensors", "h.mkf", "--arch", "3-5", "--layout", "torch", expect=0)
    modelkit("convert", "h.mkf", "h.json", expect=0)
    modelkit("convert", "h.mkf", "hdump", "--to", "csv", expect=0)
    _, tensors = json_tensors(workdir / "h.json")
    assert same_bits(tensors["dense/kernel"], weights["0.weight"].T.copy())
    assert same_bits(tensors["dense/bias"], weights["0.bias"])
    loaded = np.loadtxt(workdir / "hdump" / "dense__kernel.csv", delimiter=",", ndmin=2).astype(np.float16)
    assert same_bits(loaded, weights["0.weight"].T.copy())
    for back in ["h.json", "hdump"]:
        modelkit("convert", back, "back.mkf", expect=0)
        modelkit("diff", "h.mkf", "back.mkf", expect=0)


def test_shared_safetensors_reference_predicts_its_outputs(workdir, modelkit):
    # The copy in Fixtures/ of ../shared/reference/safetensors-torch-mlp, so the test runs on any clone.
    ref = ROOT / "Fixtures" / "safetensors" / "torch-mlp"
    modelkit("convert", ref / "model.safetensors", "m.mkf", "--arch", "4-16relu-3", "--layout", "torch", expect=0)
    out = modelkit("predict", "m.mkf", "--input", ref / "inputs.csv", expect=0).stdout
    predicted = np.loadtxt(out.splitlines(), delimiter=",", ndmin=2)
    assert np.abs(predicted - np.loadtxt(ref / "outputs.csv", delimiter=",", ndmin=2)).max() <= 1e-5


def test_foreign_csv_dump_in_torch_layout(workdir, modelkit):
    """numpy.savetxt files named like a PyTorch state_dict predict what numpy computes."""
    rng = np.random.default_rng(2)
    w0, b0 = rng.normal(size=(6, 4)), rng.normal(size=6)
    w2, b2 = rng.normal(size=(2, 6)), rng.normal(size=2)
    (workdir / "w").mkdir()
    for name, value in {"0.weight": w0, "0.bias": b0, "2.weight": w2, "2.bias": b2}.items():
        np.savetxt(workdir / "w" / f"{name}.csv", value, delimiter=",")
    x = rng.normal(size=(5, 4)).astype(np.float32)
    np.savetxt(workdir / "x.csv", x, delimiter=",")
    modelkit("convert", "w", "m.mkf", "--arch", "4-6tanh-2", "--layout", "torch", expect=0)
    out = modelkit("predict", "m.mkf", "--input", "x.csv", expect=0).stdout
    f = np.float32
    expected = np.tanh(x @ w0.astype(f).T + b0.astype(f)) @ w2.astype(f).T + b2.astype(f)
    assert np.abs(np.loadtxt(out.splitlines(), delimiter=",", ndmin=2) - expected).max() <= 1e-5
    # A wrong shape names the file, its shape and the expected one.
    np.savetxt(workdir / "w" / "2.weight.csv", rng.normal(size=(3, 6)), delimiter=",")
    err = modelkit("convert", "w", "m2.mkf", "--arch", "4-6tanh-2", "--layout", "torch", expect=1).stderr
    assert "2.weight.csv" in err and "[3, 6]" in err and "[2, 6]" in err


ONNX_CASES = [("4-8relu-6tanh-3softmax", "f32"), ("4-8gelu-bn-6silu-ln-3sigmoid", "f32"),
              ("4-8leaky_relu-6elu-5selu-4softplus-3", "f32"), ("4-8relu-bn-dropout0.5-3softmax", "f64"),
              ("4-8relu-6tanh-3", "f64"), ("4-ln-8-bn-tanh-3", "f64"), ("4-relu", "f32"), ("4-dropout0.5", "f32")]


@pytest.mark.parametrize("arch,dtype", ONNX_CASES)
def test_onnxruntime_matches_predict(arch, dtype, workdir, modelkit):
    import onnx
    import onnxruntime as ort
    modelkit("init", "--arch", arch, "--dtype", dtype, "--seed", "11", "-o", "m.mkf", expect=0)
    modelkit("convert", "m.mkf", "m.onnx", expect=0)
    model = onnx.load(workdir / "m.onnx")
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version >= 13
    x = np.random.default_rng(4).normal(size=(16, 4)) * 2
    np.savetxt(workdir / "x.csv", x, delimiter=",")
    predicted = np.loadtxt(modelkit("predict", "m.mkf", "--input", "x.csv", expect=0).stdout.splitlines(), delimiter=",", ndmin=2)
    session = ort.InferenceSession(str(workdir / "m.onnx"), providers=["CPUExecutionProvider"])
    np_type = np.float64 if dtype == "f64" else np.float32
    y = session.run(None, {"input": x.astype(np_type)})[0]
    assert y.shape == predicted.shape
    assert np.abs(y - predicted).max() <= 1e-5


def test_onnx_dense_without_bias_edited_through_json(workdir, modelkit):
    """A model edited as JSON (the second Dense loses its bias) exports as MatMul without Add and still matches."""
    import onnxruntime as ort
    modelkit("init", "--arch", "4-8relu-3", "--seed", "2", "-o", "m.mkf", expect=0)
    modelkit("convert", "m.mkf", "m.json", expect=0)
    doc = json.loads((workdir / "m.json").read_text())
    doc["architecture"]["layers"][1]["use_bias"] = False
    doc["tensors"] = [t for t in doc["tensors"] if t["name"] != "dense_1/bias"]
    (workdir / "edited.json").write_text(json.dumps(doc))
    modelkit("convert", "edited.json", "edited.onnx", expect=0)
    x = np.random.default_rng(6).normal(size=(9, 4))
    np.savetxt(workdir / "x.csv", x, delimiter=",")
    predicted = np.loadtxt(modelkit("predict", "edited.json", "--input", "x.csv", expect=0).stdout.splitlines(), delimiter=",", ndmin=2)
    session = ort.InferenceSession(str(workdir / "edited.onnx"), providers=["CPUExecutionProvider"])
    y = session.run(None, {"input": x.astype(np.float32)})[0]
    assert np.abs(y - predicted).max() <= 1e-5
    assert [n.op_type for n in __import__("onnx").load(workdir / "edited.onnx").graph.node] == ["Gemm", "Relu", "MatMul"]


def test_onnx_refuses_optimizer_state_without_allow_lossy(checkpoint, workdir, modelkit):
    d, _ = checkpoint
    err = modelkit("convert", d / "m.mkf", "m.onnx", expect=1).stderr
    assert "--allow-lossy" in err
    proc = modelkit("convert", d / "m.mkf", "m.onnx", "--allow-lossy", expect=0)
    assert "warning" in proc.stderr and "optimizer" in proc.stderr


def test_bad_json_and_csv_give_exit_1_with_line_and_column(checkpoint, workdir, modelkit):
    d, _ = checkpoint
    text = (d / "m.json").read_text()
    lines = text.split("\n")
    # Break the third line (the architecture): drop its first colon.
    lines[2] = lines[2].replace(":", " ", 1)
    (workdir / "bad.json").write_text("\n".join(lines))
    err = modelkit("convert", "bad.json", "out.mkf", expect=1).stderr
    assert "bad.json:3:" in err
    import shutil
    shutil.copytree(d / "dump", workdir / "dump")
    kernel = workdir / "dump" / "dense__kernel.csv"
    rows = kernel.read_text().splitlines()
    rows[1] = rows[1] + ",1.5"
    kernel.write_text("\n".join(rows) + "\n")
    err = modelkit("convert", "dump", "out.mkf", expect=1).stderr
    assert "dense__kernel.csv:2:1:" in err and "row has 9 values" in err
    rows[1] = rows[1].replace(",1.5", ",x1")
    kernel.write_text("\n".join(rows) + "\n")
    err = modelkit("convert", "dump", "out.mkf", expect=1).stderr
    assert "dense__kernel.csv:2:" in err and "'x1' is not a number" in err
    (workdir / "x.csv").write_text("1,2,3,4\n5,6,7\n")
    err = modelkit("predict", d / "m.mkf", "--input", "x.csv", expect=1).stderr
    assert "x.csv:2:1:" in err
