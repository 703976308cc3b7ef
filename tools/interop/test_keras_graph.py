"""Issue 10: Keras models with layers the engine lacks (Conv1D/Conv2D, pooling, Embedding, LSTM, GRU, Add) come
through ModelKit as graphs kept verbatim: model.h5 → .mkf (2.0, holding the graph) → Keras legacy .h5, which Keras
loads and predicts exactly what the original predicted, with the optimizer state it saved (training continues to
Keras's own after_outputs.npy). model.keras gives the same model as model.h5 (`diff` identical, given --optimizer for
the settings config.json does not record).
"""
import json
import os
import struct

os.environ.setdefault("KERAS_BACKEND", "jax")

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

CASES = ["cnn", "text", "residual", "lstm", "gru", "conv1d"]


def optimizer_flag(folder):
    o = json.loads((folder / "case.json").read_text())["optimizer"]
    return "adam:" + ",".join(f"{k.replace('_', '')}={o[k]}" for k in ["learning_rate", "beta_1", "beta_2", "epsilon"]).replace(
        "learningrate", "lr")


def mkf_header(path):
    """Version and JSON header of a .mkf file (spec/binary-format.md, "Layout")."""
    data = path.read_bytes()
    assert data[:8] == b"\x89MKF\r\n\x1a\n"
    major, minor = struct.unpack_from("<HH", data, 8)
    (length,) = struct.unpack_from("<Q", data, 16)
    return (major, minor), json.loads(data[32:32 + length])


@pytest.mark.parametrize("case", CASES)
def test_keras_loads_the_graph_modelkit_writes(modelkit, workdir, fixtures_dir, case):
    folder = fixtures_dir / "keras-graph" / case
    modelkit("convert", folder / "model.h5", "model.mkf", expect=0)
    modelkit("convert", "model.mkf", "back.h5", "--to", "keras-h5", expect=0)
    modelkit("diff", folder / "model.h5", "back.h5", expect=0)
    model = keras.models.load_model(workdir / "back.h5")
    inputs = np.load(folder / "inputs.npy")
    predicted = model.predict(inputs, verbose=0)
    diff = float(np.max(np.abs(predicted - np.load(folder / "outputs.npy"))))
    print(f"{case}: max |Keras(our export) - outputs.npy| = {diff}")
    assert diff <= 1e-6
    # Keras 3.15's legacy loader restores no optimizer slots (its optimizer has 2 variables after load_model, for
    # the original file too), so the state is compared in the files: our export names and holds what Keras wrote.
    with h5py.File(folder / "model.h5", "r") as original, h5py.File(workdir / "back.h5", "r") as back:
        assert json.loads(back.attrs["model_config"]) == json.loads(original.attrs["model_config"])
        for group in ["model_weights", "optimizer_weights"]:
            entries = [original[group], back[group]]
            if group == "model_weights":
                assert strings(entries[0].attrs["layer_names"]) == strings(entries[1].attrs["layer_names"])
                layers = strings(entries[0].attrs["layer_names"])
            else:
                layers = [None]
            for layer in layers:
                a, b = (e if layer is None else e[layer] for e in entries)
                names = strings(a.attrs["weight_names"])
                assert names == strings(b.attrs["weight_names"]), (group, layer)
                for name in names:
                    np.testing.assert_array_equal(np.asarray(a[name]).astype(np.float64), np.asarray(b[name]).astype(np.float64),
                                                  err_msg=f"{group}/{name}")


def strings(values):
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


@pytest.mark.parametrize("case", CASES)
def test_keras_zip_and_h5_give_the_same_model(modelkit, workdir, fixtures_dir, case):
    folder = fixtures_dir / "keras-graph" / case
    modelkit("convert", folder / "model.keras", "zip.mkf", "--optimizer", optimizer_flag(folder), expect=0)
    result = modelkit("diff", folder / "model.h5", "zip.mkf", expect=0)
    assert "identical graph" in result.stdout


@pytest.mark.parametrize("case", CASES)
def test_the_engine_refuses_naming_the_layer(modelkit, workdir, fixtures_dir, case):
    folder = fixtures_dir / "keras-graph" / case
    inputs = np.load(folder / "inputs.npy").reshape(len(np.load(folder / "inputs.npy")), -1)
    np.savetxt(workdir / "x.csv", inputs, delimiter=",")
    result = modelkit("predict", folder / "model.h5", "--input", "x.csv", expect=1)
    first = {"cnn": "Conv2D", "text": "Embedding", "residual": "Add", "lstm": "LSTM", "gru": "GRU", "conv1d": "Conv1D"}[case]
    assert first in result.stderr, result.stderr


def test_mkf_2_holds_the_graph(modelkit, workdir, fixtures_dir):
    folder = fixtures_dir / "keras-graph" / "residual"
    modelkit("convert", folder / "model.h5", "model.mkf", expect=0)
    info = json.loads(modelkit("inspect", "model.mkf", "--json", expect=0).stdout)
    graph = info["graph"]
    assert graph["origin"] == "keras"
    assert [layer["type"] for layer in graph["layers"]] == ["InputLayer", "Dense", "Add", "Dense"]
    add = graph["layers"][2]
    assert [[i["layer"] for i in call] for call in add["inbound"]] == [["input_layer", "dense"]]
    assert graph["layers"][1]["tensors"] == ["dense/kernel", "dense/bias"]
    version, header = mkf_header(workdir / "model.mkf")
    assert version == (2, 0)
    assert header["graph"] == graph
    assert "architecture" not in header or header["architecture"] is None
