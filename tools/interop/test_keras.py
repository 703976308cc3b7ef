"""Keras 3 (JAX backend) opens the Keras legacy .h5 files ModelKit writes (`--to keras-h5`) and predicts what the
original model predicted; models Keras makes here come through ModelKit's readers and back; what ModelKit cannot
reproduce is refused with exit 1 naming the layer or setting; models with layers the engine lacks (branches, unknown
layers) are read as graphs that predict and train refuse naming the layer (test_keras_graph.py covers them).
"""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

CASES = ["adam-classifier", "sgd-regressor", "rmsprop-batchnorm"]


def load_csv(path):
    return np.loadtxt(path, delimiter=",", dtype=np.float32, ndmin=2)


def optimizer_flag(folder):
    """`--optimizer` with the settings case.json records and the .keras file does not (config.json has no optimizer)."""
    o = json.loads((folder / "case.json").read_text())["optimizer"]
    keys = {"adam": ["beta_1", "beta_2", "epsilon"], "sgd": ["momentum", "nesterov"],
            "rm_sprop": ["rho", "momentum", "epsilon", "centered"]}[o["name"]]
    kind = {"rm_sprop": "rmsprop"}.get(o["name"], o["name"])
    return kind + ":" + ",".join(f"{k.replace('_', '')}={str(o[k]).lower()}" for k in keys)


@pytest.mark.parametrize("source", ["model.h5", "model.keras"])
@pytest.mark.parametrize("case", CASES)
def test_keras_loads_what_modelkit_writes(modelkit, workdir, fixtures_dir, case, source):
    folder = fixtures_dir / "keras" / case
    settings = ["--optimizer", optimizer_flag(folder)] if source == "model.keras" else []
    modelkit("convert", folder / source, "out.mkf", *settings, expect=0)
    modelkit("convert", "out.mkf", "back.h5", "--to", "keras-h5", expect=0)
    model = keras.models.load_model(workdir / "back.h5")
    predicted = model.predict(load_csv(folder / "inputs.csv"), verbose=0)
    np.testing.assert_allclose(predicted, load_csv(folder / "outputs.csv"), atol=1e-5, rtol=0)
    if source == "model.h5":
        # The optimizer state Keras saved comes back under Keras's own variable names.
        with h5py.File(folder / source, "r") as original, h5py.File(workdir / "back.h5", "r") as back:
            names = [n.decode() if isinstance(n, bytes) else n for n in original["optimizer_weights"].attrs["weight_names"]]
            back_names = [n.decode() if isinstance(n, bytes) else n for n in back["optimizer_weights"].attrs["weight_names"]]
            assert len(names) == len(back_names)
            model_names = [json.loads(f.attrs["model_config"])["config"]["name"] for f in (original, back)]
            for a, b in zip(names, back_names):
                # <optimizer>/<model name>_<layer>_<param>_<slot>: compare without the model's name.
                suffixes = [n.split("/", 1)[1].removeprefix(m + "_") for n, m in zip((a, b), model_names)]
                assert suffixes[0] == suffixes[1], (a, b)
                np.testing.assert_array_equal(np.asarray(original["optimizer_weights"][a]).astype(np.float64),
                                              np.asarray(back["optimizer_weights"][b]).astype(np.float64))


def random_weights(model, seed):
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        values = []
        for w in layer.get_weights():
            v = rng.normal(0, 0.5, size=w.shape).astype(w.dtype)
            if "variance" in layer.weights[len(values)].path:
                v = np.abs(v) + 0.5
            values.append(v)
        layer.set_weights(values)


def sequential_model():
    model = keras.Sequential([
        keras.Input(shape=(6,)),
        keras.layers.Dense(7, activation="gelu", name="d1"),
        keras.layers.LayerNormalization(epsilon=1e-3, name="ln"),
        keras.layers.LeakyReLU(negative_slope=0.1, name="leaky"),
        keras.layers.Dense(5, activation="silu", name="d2"),
        keras.layers.BatchNormalization(name="bn"),
        keras.layers.Activation("softplus", name="soft"),
        keras.layers.Dropout(0.25, name="drop"),
        keras.layers.Dense(3, activation="softmax", use_bias=False, name="out"),
    ], name="seq_model")
    random_weights(model, 1)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.003, amsgrad=True), loss="categorical_crossentropy")
    return model


def functional_chain():
    inputs = keras.Input(shape=(4,), name="x")
    h = keras.layers.Dense(8, activation="tanh", name="h")(inputs)
    h = keras.layers.BatchNormalization(name="norm")(h)
    outputs = keras.layers.Dense(2, name="y")(h)
    model = keras.Model(inputs, outputs, name="chain")
    random_weights(model, 2)
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.01, momentum=0.5, centered=True), loss="mse")
    return model


@pytest.mark.parametrize("make", [sequential_model, functional_chain])
@pytest.mark.parametrize("saved_as", ["model.h5", "model.keras"])
def test_keras_made_models_come_through_modelkit_and_back(modelkit, workdir, make, saved_as):
    model = make()
    rng = np.random.default_rng(3)
    width = model.inputs[0].shape[-1]
    x = rng.normal(size=(16, width)).astype(np.float32)
    y = rng.random(size=(16, model.outputs[0].shape[-1])).astype(np.float32)
    model.train_on_batch(x, y)  # creates the optimizer's slots, iteration 1
    model.save(workdir / saved_as)
    expected = model.predict(x, verbose=0)

    modelkit("convert", saved_as, "ours.h5", "--to", "h5", expect=0)
    modelkit("check", "ours.h5", expect=0)
    modelkit("convert", "ours.h5", "back.h5", "--to", "keras-h5", expect=0)
    back = keras.models.load_model(workdir / "back.h5")
    np.testing.assert_allclose(back.predict(x, verbose=0), expected, atol=1e-5, rtol=0)

    # Every weight Keras holds is in our layout under <layer>/<param>, bit for bit.
    with h5py.File(workdir / "ours.h5", "r") as f:
        for layer in model.layers:
            for w in layer.weights:
                param = w.path.split("/")[-1]
                np.testing.assert_array_equal(f[f"weights/{layer.name}/{param}"][()], np.asarray(w.value), err_msg=w.path)
        assert f["optimizer"].attrs["iteration"] == 1
        for v in model.optimizer.variables[2:]:
            # Keras 3 names slots <weight path with / as _>_<slot>; find ours by parameter and slot.
            name = v.path.split("/", 1)[1]
            matches = [(layer.name, w.path.split("/")[-1], name[len(w.path.replace("/", "_")) + 1:])
                       for layer in model.layers for w in layer.trainable_weights
                       if name.startswith(w.path.replace("/", "_") + "_")]
            assert len(matches) == 1, name
            layer_name, param, slot = matches[0]
            np.testing.assert_array_equal(f[f"optimizer/slots/{layer_name}/{param}/{slot}"][()], np.asarray(v.value), err_msg=name)


def test_branching_model_is_kept_as_a_graph_the_engine_refuses(modelkit, workdir):
    """Issue 10: a branching model is read as a graph (convert works); predict exits 1 naming the layer."""
    inputs = keras.Input(shape=(3,))
    a = keras.layers.Dense(4, name="left")(inputs)
    b = keras.layers.Dense(4, name="right")(inputs)
    outputs = keras.layers.Add(name="join")([a, b])
    keras.Model(inputs, outputs).save(workdir / "branch.keras")
    modelkit("convert", "branch.keras", "out.mkf", expect=0)
    (workdir / "x.csv").write_text("1,2,3\n")
    result = modelkit("predict", "out.mkf", "--input", "x.csv", expect=1)
    assert "join" in result.stderr and "Add" in result.stderr


def test_unknown_layer_is_kept_as_a_graph_the_engine_refuses(modelkit, workdir):
    model = keras.Sequential([keras.Input(shape=(4, 2)), keras.layers.Flatten(name="flat"), keras.layers.Dense(2, name="d")])
    model.save(workdir / "flat.h5")
    modelkit("convert", "flat.h5", "out.mkf", expect=0)
    (workdir / "x.csv").write_text("1,2,3,4,5,6,7,8\n")
    result = modelkit("predict", "out.mkf", "--input", "x.csv", expect=1)
    assert "flat" in result.stderr and "Flatten" in result.stderr


def test_every_bad_file_exits_1_with_a_message(modelkit, fixtures_dir):
    bad = sorted(p for folder in ("h5", "keras-h5", "keras") for p in (fixtures_dir / "bad" / folder).iterdir()
                 if p.suffix != ".expect")
    assert bad
    for path in bad:
        result = modelkit("check", path)
        assert result.returncode == 1, f"{path.name}: exit {result.returncode}\n{result.stdout}{result.stderr}"
        assert "error" in result.stderr and len(result.stderr.strip()) > 20, path.name


@pytest.mark.parametrize("source", ["model.h5", "model.keras"])
@pytest.mark.parametrize("case", CASES)
def test_cli_resumes_keras_training(modelkit, workdir, fixtures_dir, case, source):
    """`modelkit train` continues from Keras's optimizer state and reaches Keras's after_outputs.csv."""
    folder = fixtures_dir / "keras" / case
    settings = json.loads((folder / "case.json").read_text())
    extra = []
    if source == "model.keras":
        # config.json does not record the optimizer's settings: train refuses until --optimizer gives them.
        refused = modelkit("train", folder / source, "--x", folder / "continue_x.csv", "--y", folder / "continue_y.csv",
                           "--batch-size", settings["batch_size"], "--steps", settings["continue_steps"], "-o", "after.mkf",
                           expect=1)
        assert "does not record" in refused.stderr and "--optimizer" in refused.stderr, refused.stderr
        extra = ["--optimizer", optimizer_flag(folder)]
    modelkit("train", folder / source, "--x", folder / "continue_x.csv", "--y", folder / "continue_y.csv",
             "--batch-size", settings["batch_size"], "--steps", settings["continue_steps"], "-o", "after.mkf", *extra, expect=0)
    modelkit("predict", "after.mkf", "--input", folder / "inputs.csv", "-o", "after.csv", expect=0)
    np.testing.assert_allclose(load_csv(workdir / "after.csv"), load_csv(folder / "after_outputs.csv"), atol=1e-5, rtol=0)


def test_mixed_precision_is_refused_naming_the_layer(modelkit, workdir):
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2, name="half", dtype="mixed_float16")])
    model.save(workdir / "mixed.h5")
    result = modelkit("convert", "mixed.h5", "out.mkf", expect=1)
    assert "half" in result.stderr and "mixed_float16" in result.stderr


def test_fixed_length_utf8_config_is_read(modelkit, workdir, fixtures_dir):
    """h5py can store text as fixed-length UTF-8; the reader takes every string form."""
    path = workdir / "fixed.h5"
    path.write_bytes((fixtures_dir / "keras" / "adam-classifier" / "model.h5").read_bytes())
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        config["note"] = "größer ✓"
        text = json.dumps(config, ensure_ascii=False).encode()
        f.attrs.create("model_config", np.array(text, dtype=h5py.string_dtype("utf-8", len(text))))
        assert not f.attrs.get_id("model_config").get_type().is_variable_str()
    modelkit("convert", "fixed.h5", "out.json", expect=0)
    modelkit("convert", fixtures_dir / "keras" / "adam-classifier" / "model.h5", "reference.json", expect=0)
    assert json.loads((workdir / "out.json").read_text())["tensors"] == json.loads((workdir / "reference.json").read_text())["tensors"]
