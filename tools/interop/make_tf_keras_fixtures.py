"""Writes Fixtures/tf-keras/<name>/: legacy .h5 files made by tf-keras 2 (Keras 2 on TensorFlow), the layout of most
archived Keras models, with their optimizer state in both namings tf-keras has used:
- adam-new, sgd-new: `tf_keras.optimizers.Adam` / `SGD` (the optimizers since TF 2.11); optimizer weights named
  `optimizer_weights/<Optimizer>/m/dense/kernel:0`-style (recorded per file in case.json `optimizer_weight_names`);
- adam-legacy, sgd-legacy: `tf_keras.optimizers.legacy.Adam` / `SGD` (the TF 2.x naming `<Optimizer>/dense/kernel/m:0`);
- weights-only: `model.save_weights("w.h5")` of a model like adam-new (no architecture, no optimizer).

Every model is Sequential Input(4) -> Dense(8, relu) -> Dense(3, softmax), categorical cross-entropy, trained one epoch
(32 rows, batch 8: 4 steps) before it is saved. Every folder also has inputs.npy -> outputs.npy (float32),
continue_x.npy / continue_y.npy (batches in order), after_outputs.npy (predictions after one train_on_batch per
batch, in-memory model), case.json (versions, optimizer config, the h5 weight_names, every dataset with shape and
dtype, whether tf-keras's own reload predicts and resumes the same) and layout.txt (every group, attribute with its
HDF5 string type, and dataset).

TensorFlow is not in the project venv (CI must not install it). Make a separate one, then run from the repository root:
    python3.11 -m venv .venv-tf && .venv-tf/bin/pip install -r tools/interop/requirements-tf.txt
    .venv-tf/bin/python tools/interop/make_tf_keras_fixtures.py [NAME...]
"""
import json
import os
import pathlib
import platform
import shutil
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
import h5py  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "Fixtures" / "tf-keras"
SEED = 5
TRAIN_ROWS, BATCH, CONTINUE_STEPS, INPUT_ROWS = 32, 8, 3, 5

OPTIMIZERS = {
    "adam-new": lambda: tf_keras.optimizers.Adam(0.01),
    "adam-legacy": lambda: tf_keras.optimizers.legacy.Adam(0.01),
    "sgd-new": lambda: tf_keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    "sgd-legacy": lambda: tf_keras.optimizers.legacy.SGD(0.05, momentum=0.9, nesterov=True),
    "weights-only": lambda: tf_keras.optimizers.Adam(0.01),
}


def build():
    return tf_keras.Sequential([tf_keras.Input((4,)), tf_keras.layers.Dense(8, activation="relu"),
                                tf_keras.layers.Dense(3, activation="softmax")])


def data(rng, n):
    return rng.normal(0, 1, (n, 4)).astype(np.float32), np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)]


def plain(value):
    """JSON-able copy of an optimizer config or attribute value (numpy scalars, bytes)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def attribute_type(obj, key):
    """How the attribute is stored: what a reader must handle (fixed or variable-length strings, arrays)."""
    aid = obj.attrs.get_id(key)
    dtype, shape = aid.dtype, aid.shape
    string = h5py.check_string_dtype(dtype)
    if string is not None:
        kind = f"{'variable-length' if string.length is None else f'fixed-length {string.length}-byte'} " \
               f"{string.encoding} string"
    else:
        kind = str(dtype)
    return f"{kind}, shape {list(shape)}"


def h5_walk(path):
    """(layout text, datasets, attributes) of every group, attribute and dataset in file order."""
    lines, datasets, attributes = [], [], {}

    def attrs(name, obj):
        for key in obj.attrs:
            value = plain(obj.attrs[key])
            text = str(value)
            kind = attribute_type(obj, key)
            attributes[f"{name}@{key}"] = kind
            lines.append(f"  @{key} ({kind}) = {text if len(text) <= 300 else text[:300] + f'... ({len(text)} chars)'}")

    with h5py.File(path, "r") as f:
        lines.append("/")
        attrs("/", f)

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                lines.append(f"{name}  {list(obj.shape)} {obj.dtype}")
                datasets.append({"path": name, "shape": list(obj.shape), "dtype": str(obj.dtype)})
            else:
                lines.append(f"{name}/")
            attrs(name, obj)
        f.visititems(visit)
    return "\n".join(lines), datasets, attributes


def predict(model, x):
    return np.asarray(model.predict(x, batch_size=len(x), verbose=0), dtype=np.float32)


def resume(model, continue_x, continue_y):
    losses = []
    for step in range(CONTINUE_STEPS):
        rows = slice(step * BATCH, (step + 1) * BATCH)
        losses.append(float(model.train_on_batch(continue_x[rows], continue_y[rows])))
    return losses


def make(name, folder):
    tf_keras.backend.clear_session()  # default layer names (dense, dense_1) in every file
    tf_keras.utils.set_random_seed(SEED)
    rng = np.random.default_rng(SEED)
    model = build()
    optimizer = OPTIMIZERS[name]()
    model.compile(optimizer=optimizer, loss="categorical_crossentropy")
    x, y = data(rng, TRAIN_ROWS)
    history = model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    inputs, _ = data(rng, INPUT_ROWS)
    continue_x, continue_y = data(rng, BATCH * CONTINUE_STEPS)

    folder.mkdir(parents=True, exist_ok=True)
    file = "w.h5" if name == "weights-only" else "model.h5"
    if name == "weights-only":
        model.save_weights(folder / file)
    else:
        model.save(folder / file)
    outputs = predict(model, inputs)
    np.save(folder / "inputs.npy", inputs)
    np.save(folder / "outputs.npy", outputs)
    np.save(folder / "continue_x.npy", continue_x)
    np.save(folder / "continue_y.npy", continue_y)
    iterations_saved = int(optimizer.iterations.numpy())
    config = plain(optimizer.get_config())
    config["learning_rate"] = float(np.float32(tf_keras.backend.get_value(optimizer.learning_rate)))
    # The legacy optimizers have a variables() method; the new ones a property (a list that can be called too).
    variables = optimizer.variables() if callable(optimizer.variables) else optimizer.variables
    optimizer_variables = [{"name": v.name, "shape": list(v.shape), "dtype": v.dtype.name} for v in variables]

    continue_losses = resume(model, continue_x, continue_y)
    after_outputs = predict(model, inputs)
    np.save(folder / "after_outputs.npy", after_outputs)

    # tf-keras's own round trip: reload the file, predict, and (for full saves) resume on the same batches.
    reload = {}
    if name == "weights-only":
        fresh = build()
        fresh.load_weights(folder / file)
        reload["predictions_match"] = bool(np.array_equal(predict(fresh, inputs), outputs))
    else:
        reloaded = tf_keras.models.load_model(folder / file)
        got = predict(reloaded, inputs)
        reload["predictions_match"] = bool(np.array_equal(got, outputs))
        reload["predictions_max_abs_diff"] = float(np.max(np.abs(got - outputs)))
        loaded_class = reloaded.optimizer.__class__
        reload["optimizer_class"] = f"{loaded_class.__module__}.{loaded_class.__name__}"
        reload["iterations_after_load"] = int(reloaded.optimizer.iterations.numpy())
        resume(reloaded, continue_x, continue_y)
        got = predict(reloaded, inputs)
        reload["resume_matches_after_outputs"] = bool(np.array_equal(got, after_outputs))
        reload["resume_max_abs_diff"] = float(np.max(np.abs(got - after_outputs)))

    layout, datasets, attributes = h5_walk(folder / file)
    (folder / "layout.txt").write_text(f"== {file}\n{layout}\n")
    with h5py.File(folder / file, "r") as f:
        group = f["optimizer_weights"] if "optimizer_weights" in f else None
        optimizer_weight_names = plain(group.attrs["weight_names"]) if group is not None else None
        weights_group = f["model_weights"] if "model_weights" in f else f
        layer_weight_names = {layer: plain(weights_group[layer].attrs["weight_names"])
                              for layer in plain(weights_group.attrs["layer_names"])}
        root_attributes = {k: plain(v) for k, v in f.attrs.items()}
    for key in ("model_config", "training_config"):
        if key in root_attributes:
            root_attributes[key] = json.loads(root_attributes[key])

    case = {
        "made_by": {"generator": f"tools/interop/{pathlib.Path(__file__).name}", "tf_keras": tf_keras.__version__,
                    "tensorflow": tf.__version__, "h5py": h5py.__version__, "numpy": np.__version__,
                    "python": platform.python_version(),
                    "call": f"model.save_weights('{file}')" if name == "weights-only" else f"model.save('{file}')"},
        "model": "Sequential: Input(4) -> Dense(8, relu) -> Dense(3, softmax)",
        "modelkit_arch": "4-8relu-3softmax",  # for --arch with --layout keras, where the file has no architecture
        "loss": "categorical_crossentropy",
        "optimizer_class": optimizer.__class__.__module__ + "." + optimizer.__class__.__name__,
        "optimizer": config,
        "optimizer_iterations_saved": iterations_saved,
        "optimizer_variables_in_memory": optimizer_variables,
        "optimizer_weight_names": optimizer_weight_names,
        "layer_weight_names": layer_weight_names,
        "root_attributes": root_attributes,
        "datasets": datasets,
        "attribute_types": attributes,
        "training_before_save": {"rows": TRAIN_ROWS, "batch_size": BATCH, "epochs": 1, "shuffle": False,
                                 "seed": SEED, "loss": [float(v) for v in history.history["loss"]]},
        "batch_size": BATCH,
        "continue_steps": CONTINUE_STEPS,
        "continue_losses": continue_losses,
        "tf_keras_reload": reload,
        "files": {
            file: ("model.save_weights: layer weights only (no model_config, no optimizer)" if name == "weights-only"
                   else "tf-keras legacy HDF5 save (model_config, training_config, model_weights, optimizer_weights)"),
            "inputs.npy": f"{INPUT_ROWS} rows fed to model.predict (float32)",
            "outputs.npy": "what tf-keras predicted for inputs.npy before the continuation (float32)",
            "continue_x.npy / continue_y.npy": f"{CONTINUE_STEPS} batches of {BATCH} rows, in order, no shuffling",
            "after_outputs.npy": "what tf-keras predicted for inputs.npy after train_on_batch on each continuation "
                                 "batch in order (in-memory model, float32)",
            "layout.txt": "every group, attribute (with its HDF5 type) and dataset of the h5 file",
        },
    }
    (folder / "case.json").write_text(json.dumps(case, indent=2) + "\n")
    return case


def main():
    tf.config.experimental.enable_op_determinism()
    names = sys.argv[1:] or list(OPTIMIZERS)
    out = pathlib.Path(os.environ.get("MODELKIT_FIXTURE_OUT", OUT))
    for name in names:
        folder = out / name
        if folder.exists():  # no stale file from an older run
            shutil.rmtree(folder)
        case = make(name, folder)
        size = sum(p.stat().st_size for p in folder.iterdir())
        print(f"{name}: {size} bytes, reload {case['tf_keras_reload']}")


if __name__ == "__main__":
    main()
