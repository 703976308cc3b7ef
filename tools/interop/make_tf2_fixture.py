"""Writes Fixtures/keras/tf2-style/model.h5: the adam-classifier model laid out the way tf.keras 2.x saved legacy
.h5 files, so that the reader's tf.keras 2 paths are tested without TensorFlow:
- `model_config` and `training_config` as fixed-length byte strings (tf.keras 2 wrote `json.dumps(...).encode()`
  through h5py as numpy bytes), `batch_input_shape` on the InputLayer, the optimizer config with `decay`;
- `layer_names` split into `layer_names0`, `layer_names1` (as Keras does past its 64 KiB attribute limit), fixed-length;
- weights named `<layer>/kernel:0` at `model_weights/<layer>/<layer>/kernel:0`;
- optimizer weights `Adam/iter:0`, `Adam/<layer>/kernel/m:0`, `.../v:0`.
Values are copied from Fixtures/keras/adam-classifier/model.h5 (Keras 3), so both files must load to the same model.
Run from the repository root: .venv/bin/python tools/interop/make_tf2_fixture.py
"""
import json
import pathlib

import h5py
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
SOURCE = ROOT / "Fixtures" / "keras" / "adam-classifier" / "model.h5"
OUT = ROOT / "Fixtures" / "keras" / "tf2-style" / "model.h5"


def fixed(strings):
    return np.array([s.encode() for s in strings], dtype=f"S{max(len(s) for s in strings)}")


def main():
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(SOURCE, "r") as src, h5py.File(OUT, "w") as out:
        config = json.loads(src.attrs["model_config"])
        layers = []
        for layer in config["config"]["layers"]:
            c = dict(layer["config"])
            if layer["class_name"] == "InputLayer":
                c = {"batch_input_shape": c["batch_shape"], "dtype": "float32", "sparse": False, "ragged": False, "name": "dense_input"}
            else:
                c["dtype"] = "float32"
                c.pop("quantization_config", None)
            layers.append({"class_name": layer["class_name"], "config": c})
        tf2_config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers}}
        out.attrs["model_config"] = np.bytes_(json.dumps(tf2_config).encode())
        training = json.loads(src.attrs["training_config"])
        optimizer = training["optimizer_config"]["config"]
        tf2_training = {"loss": training["loss"], "metrics": None, "weighted_metrics": None, "loss_weights": None,
                        "optimizer_config": {"class_name": "Adam", "config": {
                            "name": "Adam", "learning_rate": optimizer["learning_rate"], "decay": 0.0,
                            "beta_1": optimizer["beta_1"], "beta_2": optimizer["beta_2"], "epsilon": optimizer["epsilon"],
                            "amsgrad": False}}}
        out.attrs["training_config"] = np.bytes_(json.dumps(tf2_training).encode())
        out.attrs["keras_version"] = np.bytes_(b"2.11.0")
        out.attrs["backend"] = np.bytes_(b"tensorflow")

        weights = out.create_group("model_weights")
        names = [n for n in src["model_weights"].attrs["layer_names"]]
        weights.attrs["layer_names0"] = fixed(names[:2])
        weights.attrs["layer_names1"] = fixed(names[2:])
        weights.attrs["backend"] = np.bytes_(b"tensorflow")
        weights.attrs["keras_version"] = np.bytes_(b"2.11.0")
        optimizer_names = [b"Adam/iter:0"]
        optimizer_values = [np.int64(src["optimizer_weights/adam/iteration"][()])]
        slots = {"momentum": "m", "velocity": "v"}
        for name in names:
            group = weights.create_group(name)
            weight_names = []
            for param in ("kernel", "bias"):
                value = src[f"model_weights/{name}/sequential/{name}/{param}"][()]
                weight_names.append(f"{name}/{param}:0")
                group[f"{name}/{param}:0"] = value
                for slot, short in slots.items():
                    optimizer_names.append(f"Adam/{name}/{param}/{short}:0".encode())
                    optimizer_values.append(src[f"optimizer_weights/adam/sequential_{name}_{param}_{slot}"][()])
            group.attrs["weight_names"] = fixed(weight_names)
        opt = out.create_group("optimizer_weights")
        opt.attrs["weight_names"] = np.array(optimizer_names, dtype=f"S{max(len(n) for n in optimizer_names)}")
        for name, value in zip(optimizer_names, optimizer_values):
            opt[name.decode()] = value


if __name__ == "__main__":
    main()
