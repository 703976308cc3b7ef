"""Writes Fixtures/keras-graph/<name>/: Keras 3 (JAX backend) models beyond Dense stacks (Conv1D/Conv2D, pooling,
Flatten, Embedding, Add, LSTM, GRU), each trained a few steps so that the files hold optimizer state.

For every model:
- model.h5 (legacy HDF5, `model.save("model.h5")`), model.keras (Keras 3 zip), model.weights.h5 (`save_weights`);
- inputs.npy -> outputs.npy: what the in-memory model predicted (float32; the text model's inputs are int32 ids);
- continue_x.npy / continue_y.npy: `continue_steps` batches of `batch_size` rows, in order; after_outputs.npy: the
  predictions for inputs.npy after one `train_on_batch` per batch, in order, on the in-memory model;
- case.json: versions, layers, weight and optimizer-variable shapes, optimizer config, loss, whether Keras's own
  `load_model` of model.h5 and model.keras predicts outputs.npy exactly; layout.txt: every HDF5 group, attribute and
  dataset of model.h5, model.weights.h5 and the weights file inside model.keras.

Run from the repository root with the project venv: .venv/bin/python tools/interop/make_keras_graph_fixtures.py
"""
import json
import os
import pathlib
import platform
import shutil
import sys
import tempfile
import zipfile

os.environ.setdefault("KERAS_BACKEND", "jax")
import h5py  # noqa: E402
import jax  # noqa: E402
import jaxlib  # noqa: E402
import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "Fixtures" / "keras-graph"
SEED = 11
TRAIN_ROWS, BATCH, CONTINUE_STEPS, INPUT_ROWS = 32, 8, 3, 4


def cnn():
    model = keras.Sequential([keras.Input((8, 8, 1)), layers.Conv2D(4, 3, activation="relu"), layers.MaxPooling2D(),
                              layers.Flatten(), layers.Dense(3, activation="softmax")])

    def data(rng, n):
        return (rng.normal(0, 1, (n, 8, 8, 1)).astype(np.float32),
                np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)])
    return model, "categorical_crossentropy", data, "Sequential; Conv2D valid padding, stride 1; MaxPooling2D pool 2"


def text():
    model = keras.Sequential([keras.Input((6,), dtype="int32"), layers.Embedding(20, 4),
                              layers.GlobalAveragePooling1D(), layers.Dense(2, activation="sigmoid")])

    def data(rng, n):
        return rng.integers(0, 20, (n, 6)).astype(np.int32), rng.integers(0, 2, (n, 2)).astype(np.float32)
    return model, "binary_crossentropy", data, "Sequential; int32 token ids in [0, 20), no masking (mask_zero False)"


def residual():
    x = keras.Input((5,))
    h = layers.Dense(5, activation="relu")(x)
    y = layers.Add()([x, h])
    model = keras.Model(x, layers.Dense(2)(y))

    def data(rng, n):
        return rng.normal(0, 1, (n, 5)).astype(np.float32), rng.normal(0, 1, (n, 2)).astype(np.float32)
    return model, "mean_squared_error", data, "Functional: the input feeds both the first Dense and the Add (a skip)"


def recurrent(cell):
    def make():
        model = keras.Sequential([keras.Input((5, 3)), cell(4), layers.Dense(1)])

        def data(rng, n):
            return rng.normal(0, 1, (n, 5, 3)).astype(np.float32), rng.normal(0, 1, (n, 1)).astype(np.float32)
        note = ("Sequential; LSTM(4) defaults: tanh / sigmoid recurrent activation, unit_forget_bias, returns the last "
                "step; kernel gates in order i, f, c, o") if cell is layers.LSTM else (
                "Sequential; GRU(4) Keras 3 defaults: reset_after=True (bias shape [2, 12]: input and recurrent "
                "biases), tanh / sigmoid; kernel gates in order z, r, h")
        return model, "mean_squared_error", data, note
    return make


def conv1d():
    model = keras.Sequential([keras.Input((10, 2)), layers.Conv1D(3, 3, padding="same", activation="relu"),
                              layers.GlobalMaxPooling1D(), layers.Dense(1)])

    def data(rng, n):
        return rng.normal(0, 1, (n, 10, 2)).astype(np.float32), rng.normal(0, 1, (n, 1)).astype(np.float32)
    return model, "mean_squared_error", data, "Sequential; Conv1D padding same, stride 1"


MODELS = {"cnn": cnn, "text": text, "residual": residual, "lstm": recurrent(layers.LSTM), "gru": recurrent(layers.GRU),
          "conv1d": conv1d}


def h5_layout(path):
    """Every group's attributes and every dataset (path, shape, dtype), in file order, as text."""
    lines = []

    def attrs(name, obj):
        for key, value in obj.attrs.items():
            text = value.decode() if isinstance(value, bytes) else (
                [v.decode() if isinstance(v, bytes) else v for v in value.tolist()] if isinstance(value, np.ndarray)
                else value)
            text = str(text)
            lines.append(f"  @{key} = {text if len(text) <= 200 else text[:200] + f'... ({len(text)} chars)'}")

    with h5py.File(path, "r") as f:
        lines.append("/")
        attrs("/", f)

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                lines.append(f"{name}  {list(obj.shape)} {obj.dtype}")
            else:
                lines.append(f"{name}/")
            attrs(name, obj)
        f.visititems(visit)
    return "\n".join(lines)


def layer_json(layer):
    return {"class_name": layer.__class__.__name__, "name": layer.name,
            "output_shape": list(layer.output.shape) if hasattr(layer, "output") else None,
            "weights": {w.path: list(w.shape) for w in layer.weights}}


def predict(model, x):
    return np.asarray(model.predict(x, batch_size=len(x), verbose=0), dtype=np.float32)


def make(name, folder):
    keras.backend.clear_session()  # fresh layer-name counters: every model's names are the defaults (dense, dense_1)
    keras.utils.set_random_seed(SEED)
    rng = np.random.default_rng(SEED)
    model, loss, data, note = MODELS[name]()
    optimizer = keras.optimizers.Adam(0.01)
    model.compile(optimizer=optimizer, loss=loss)
    x, y = data(rng, TRAIN_ROWS)
    history = model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    inputs, _ = data(rng, INPUT_ROWS)
    continue_x, continue_y = data(rng, BATCH * CONTINUE_STEPS)

    folder.mkdir(parents=True, exist_ok=True)
    model.save(folder / "model.h5")
    model.save(folder / "model.keras")
    model.save_weights(folder / "model.weights.h5")
    outputs = predict(model, inputs)
    np.save(folder / "inputs.npy", inputs)
    np.save(folder / "outputs.npy", outputs)
    np.save(folder / "continue_x.npy", continue_x)
    np.save(folder / "continue_y.npy", continue_y)
    iterations_saved = int(np.asarray(optimizer.iterations))
    optimizer_variables = {v.path: [list(v.shape), str(v.dtype)] for v in optimizer.variables}

    reload = {}
    for file in ("model.h5", "model.keras"):
        reloaded = keras.models.load_model(folder / file)
        got = predict(reloaded, inputs)
        # Keras 3.15.1 writes no optimizer into model.keras's compile_config, so load_model compiles it with the
        # default RMSprop and skips the saved Adam variables (with a warning); record what it did.
        reload[file] = {"equal": bool(np.array_equal(got, outputs)),
                        "max_abs_diff": float(np.max(np.abs(got - outputs))),
                        "optimizer_after_load": reloaded.optimizer.__class__.__name__ if reloaded.optimizer else None}

    continue_losses = []
    for step in range(CONTINUE_STEPS):
        rows = slice(step * BATCH, (step + 1) * BATCH)
        continue_losses.append(float(model.train_on_batch(continue_x[rows], continue_y[rows])))
    np.save(folder / "after_outputs.npy", predict(model, inputs))
    with tempfile.TemporaryDirectory() as scratch:
        with zipfile.ZipFile(folder / "model.keras") as archive:
            archive.extract("model.weights.h5", scratch)
            keras_zip = {"members": archive.namelist(), "config.json": json.loads(archive.read("config.json"))}
        layouts = [f"== {file}\n{h5_layout(folder / file)}" for file in ("model.h5", "model.weights.h5")]
        inner = h5_layout(pathlib.Path(scratch) / "model.weights.h5")
        layouts.append(f"== model.keras: model.weights.h5 inside the zip\n{inner}")
    (folder / "layout.txt").write_text("\n\n".join(layouts) + "\n")

    config = optimizer.get_config()
    config["learning_rate"] = float(np.asarray(optimizer.learning_rate))
    case = {
        "made_by": {"generator": f"tools/interop/{pathlib.Path(__file__).name}", "keras": keras.__version__,
                    "backend": keras.backend.backend(), "jax": jax.__version__, "jaxlib": jaxlib.__version__,
                    "numpy": np.__version__, "h5py": h5py.__version__, "python": platform.python_version()},
        "model_class": model.__class__.__name__,
        "input_shape": list(model.inputs[0].shape), "input_dtype": str(model.inputs[0].dtype),
        "layers": [layer_json(layer) for layer in model.layers],
        "loss": loss,
        "optimizer": config,
        "optimizer_iterations_saved": iterations_saved,
        "optimizer_variables": optimizer_variables,
        "training_before_save": {"rows": TRAIN_ROWS, "batch_size": BATCH, "epochs": 1, "shuffle": False,
                                 "seed": SEED, "loss": [float(v) for v in history.history["loss"]]},
        "batch_size": BATCH,
        "continue_steps": CONTINUE_STEPS,
        "continue_losses": continue_losses,
        "keras_reload_predictions_match": all(r["equal"] for r in reload.values()),
        "keras_reload": reload,
        "keras_zip_members": keras_zip["members"],
        "keras_zip_compile_config": keras_zip["config.json"].get("compile_config"),
        "notes": note,
        "files": {
            "model.h5": "Keras legacy HDF5 save (model_config, training_config, model_weights, optimizer_weights)",
            "model.keras": "Keras 3 native zip (config.json, metadata.json, model.weights.h5 with optimizer state)",
            "model.weights.h5": "model.save_weights: Keras 3 weights HDF5, no architecture (layers/..., and "
                                "optimizer/vars/0..N: Keras 3 writes a compiled model's optimizer variables too)",
            "inputs.npy": f"{INPUT_ROWS} rows fed to model.predict ({inputs.dtype})",
            "outputs.npy": "what Keras predicted for inputs.npy before the continuation (float32)",
            "continue_x.npy / continue_y.npy": f"{CONTINUE_STEPS} batches of {BATCH} rows, in order, no shuffling",
            "after_outputs.npy": "what Keras predicted for inputs.npy after train_on_batch on each continuation "
                                 "batch in order (in-memory model, float32)",
            "layout.txt": "every group, attribute and dataset (shape, dtype) of model.h5 and model.weights.h5",
        },
    }
    (folder / "case.json").write_text(json.dumps(case, indent=2) + "\n")
    return case


def main():
    names = sys.argv[1:] or list(MODELS)
    out = pathlib.Path(os.environ.get("MODELKIT_FIXTURE_OUT", OUT))
    for name in names:
        folder = out / name
        # Keras refuses nothing about overwriting, but a stale file from an older run must not linger.
        if folder.exists():
            shutil.rmtree(folder)
        case = make(name, folder)
        size = sum(p.stat().st_size for p in folder.iterdir())
        print(f"{name}: {size} bytes, reload match {case['keras_reload_predictions_match']}")


if __name__ == "__main__":
    main()
