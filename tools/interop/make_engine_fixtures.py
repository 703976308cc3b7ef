"""Makes Tests/ReferenceEngineTests/Fixtures/keras_engine_cases.json: Keras 3 (JAX backend) as the oracle for the
reference engine. For every activation and layer, a small model's weights, inputs and what Keras predicts; for every
optimizer and loss, what Keras's weights and optimizer slots are after a few train_on_batch steps (the last batch
smaller). Run with the project venv: .venv/bin/python tools/interop/make_engine_fixtures.py
"""
import json
import os
import pathlib

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_ENABLE_X64", "1")  # float64 models stay float64
import numpy as np  # noqa: E402
import keras  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/ReferenceEngineTests/Fixtures/keras_engine_cases.json"


def activation_json(name):
    if name == "gelu_approx":
        return {"name": "gelu", "approximate": True}
    if name == "gelu":
        return {"name": "gelu", "approximate": False}
    return name


def keras_activation(name):
    if name == "gelu_approx":
        return lambda x: keras.activations.gelu(x, approximate=True)
    return name


def build(layers_spec, input_width, dtype):
    """layers_spec: list of (kind, name, options). Returns the Keras model and our architecture JSON."""
    keras.config.set_floatx(dtype)
    keras.config.set_dtype_policy(dtype)  # layers compute in the model's precision, not a cached float32 policy
    inputs = keras.Input((input_width,), dtype=dtype)
    h = inputs
    arch_layers = []
    for kind, name, o in layers_spec:
        if kind == "dense":
            layer = keras.layers.Dense(o["units"], activation=keras_activation(o.get("activation", "linear")),
                                       use_bias=o.get("use_bias", True), name=name)
            arch_layers.append({"name": name, "type": "dense", "units": o["units"],
                                "activation": activation_json(o.get("activation", "linear")),
                                "use_bias": o.get("use_bias", True)})
        elif kind == "activation":
            layer = keras.layers.Activation(keras_activation(o["activation"]), name=name)
            arch_layers.append({"name": name, "type": "activation", "activation": activation_json(o["activation"])})
        elif kind == "dropout":
            layer = keras.layers.Dropout(o["rate"], name=name)
            arch_layers.append({"name": name, "type": "dropout", "rate": o["rate"]})
        elif kind == "batch_normalization":
            layer = keras.layers.BatchNormalization(momentum=o.get("momentum", 0.99), epsilon=o.get("epsilon", 1e-3),
                                                    center=o.get("center", True), scale=o.get("scale", True), name=name)
            arch_layers.append({"name": name, "type": "batch_normalization", "axis": -1,
                                "momentum": o.get("momentum", 0.99), "epsilon": o.get("epsilon", 1e-3),
                                "center": o.get("center", True), "scale": o.get("scale", True)})
        elif kind == "layer_normalization":
            layer = keras.layers.LayerNormalization(epsilon=o.get("epsilon", 1e-3), center=o.get("center", True),
                                                    scale=o.get("scale", True), name=name)
            arch_layers.append({"name": name, "type": "layer_normalization", "epsilon": o.get("epsilon", 1e-3),
                                "center": o.get("center", True), "scale": o.get("scale", True)})
        h = layer(h)
    model = keras.Model(inputs, h)
    return model, {"input_shape": [input_width], "layers": arch_layers}


def weights_of(model, rng):
    """Randomises BatchNormalization's moving statistics and gammas (Glorot leaves them trivial), returns all."""
    out = {}
    for v in model.weights:
        if v.path.endswith("moving_variance") or v.path.endswith("gamma"):
            v.assign(rng.uniform(0.5, 1.5, v.shape).astype(v.dtype))
        elif v.path.endswith("moving_mean") or v.path.endswith("beta"):
            v.assign(rng.uniform(-0.5, 0.5, v.shape).astype(v.dtype))
        elif v.path.endswith("bias"):
            v.assign(rng.uniform(-0.3, 0.3, v.shape).astype(v.dtype))
    for v in model.weights:
        out[v.path] = np.asarray(v.numpy(), dtype=np.float64).ravel().tolist()
    return out


def slots_of(optimizer, model):
    names = {"momentum": ["_momentums", "momentums"], "velocity": ["_velocities"], "velocity_hat": ["_velocity_hats"],
             "average_gradient": ["_average_gradients"]}
    out = {}
    for slot, attrs in names.items():
        for attr in attrs:
            values = getattr(optimizer, attr, None)
            if values:
                for var, value in zip(optimizer._trainable_variables, values):
                    if value is None:
                        continue
                    out.setdefault(var.path, {})[slot] = np.asarray(value.numpy(), dtype=np.float64).ravel().tolist()
                break
    return out


def optimizer_json(opt):
    lr = float(np.asarray(opt.learning_rate))
    c = opt.get_config()
    if isinstance(opt, keras.optimizers.Adam):
        return {"type": "adam", "learning_rate": lr, "beta1": c["beta_1"], "beta2": c["beta_2"], "epsilon": c["epsilon"],
                "amsgrad": c["amsgrad"], "formulation": "keras"}
    if isinstance(opt, keras.optimizers.SGD):
        return {"type": "sgd", "learning_rate": lr, "momentum": c["momentum"], "nesterov": c["nesterov"], "formulation": "keras"}
    return {"type": "rmsprop", "learning_rate": lr, "rho": c["rho"], "momentum": c["momentum"], "epsilon": c["epsilon"],
            "centered": c["centered"]}


ACTIVATIONS = ["linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu", "selu", "gelu", "gelu_approx",
               "softplus", "silu"]


def forward_cases(dtype, rng):
    cases = []
    specs = {f"activation-{a}": [("dense", "d1", {"units": 6, "activation": a}), ("dense", "d2", {"units": 3}),
                                 ("activation", "act", {"activation": a})] for a in ACTIVATIONS}
    specs["normalization"] = [("dense", "d1", {"units": 6}), ("batch_normalization", "bn", {"momentum": 0.9}),
                              ("activation", "a1", {"activation": "relu"}), ("dropout", "drop", {"rate": 0.3}),
                              ("layer_normalization", "ln", {}), ("dense", "d2", {"units": 3, "activation": "softmax"})]
    specs["normalization-no-affine"] = [("dense", "d1", {"units": 6, "use_bias": False}),
                                        ("batch_normalization", "bn", {"center": False, "scale": False}),
                                        ("layer_normalization", "ln", {"center": False, "scale": False}),
                                        ("dense", "d2", {"units": 2, "activation": "tanh"})]
    for name, spec in specs.items():
        model, arch = build(spec, 4, dtype)
        weights = weights_of(model, rng)
        x = rng.normal(0, 1.5, (7, 4)).astype(np.float32).astype(dtype)
        y = np.asarray(model(keras.ops.convert_to_tensor(x, dtype=dtype), training=False), dtype=np.float64)
        cases.append({"name": f"{name}-{dtype}", "dtype": dtype, "architecture": arch, "weights": weights,
                      "inputs": x.astype(np.float64).ravel().tolist(), "rows": 7, "outputs": y.ravel().tolist()})
    return cases


def training_cases(dtype, rng):
    hidden = [("dense", "d1", {"units": 5, "activation": "tanh"})]
    # No bias before BatchNormalization: its true gradient is zero, and float32 noise turns into full-size Adam steps.
    norm = [("dense", "d1", {"units": 5, "use_bias": False}), ("batch_normalization", "bn", {"momentum": 0.9}),
            ("activation", "a1", {"activation": "elu"}), ("dropout", "drop", {"rate": 0.0}),
            ("layer_normalization", "ln", {}), ("dense", "d2", {"units": 5, "activation": "gelu"})]
    plans = [
        ("sgd-mse", hidden + [("dense", "out", {"units": 3})], lambda: keras.optimizers.SGD(0.05), "mse", False),
        ("sgd-momentum-mae", hidden + [("dense", "out", {"units": 3, "activation": "silu"})],
         lambda: keras.optimizers.SGD(0.05, momentum=0.9), "mae", False),
        ("sgd-nesterov-bce", hidden + [("dense", "out", {"units": 3, "activation": "sigmoid"})],
         lambda: keras.optimizers.SGD(0.1, momentum=0.8, nesterov=True), "binary_crossentropy", False),
        ("adam-cce", hidden + [("dense", "out", {"units": 3, "activation": "softmax"})],
         lambda: keras.optimizers.Adam(0.01), "categorical_crossentropy", False),
        ("adam-amsgrad-scce-logits", hidden + [("dense", "out", {"units": 3})],
         lambda: keras.optimizers.Adam(0.02, amsgrad=True), "sparse_categorical_crossentropy", True),
        ("adam-scce", norm + [("dense", "out", {"units": 3, "activation": "softmax"})],
         lambda: keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", False),
        ("rmsprop-bce-logits", hidden + [("dense", "out", {"units": 3, "activation": "softplus"})],
         lambda: keras.optimizers.RMSprop(0.01), "binary_crossentropy", True),
        ("rmsprop-centered-momentum-cce-logits", norm + [("dense", "out", {"units": 3, "activation": "leaky_relu"})],
         lambda: keras.optimizers.RMSprop(0.005, momentum=0.5, centered=True), "categorical_crossentropy", True),
        ("rmsprop-momentum-bce", norm + [("dense", "out", {"units": 3, "activation": "sigmoid"})],
         lambda: keras.optimizers.RMSprop(0.01, momentum=0.9), "binary_crossentropy", False),
        ("adam-mse-selu", [("dense", "d1", {"units": 5, "activation": "selu"}),
                           ("dense", "d2", {"units": 4, "activation": "gelu_approx"}),
                           ("dense", "d3", {"units": 4, "activation": "relu"}), ("dense", "out", {"units": 3})],
         lambda: keras.optimizers.Adam(0.01), "mse", False),
    ]
    losses = {"mse": keras.losses.MeanSquaredError, "mae": keras.losses.MeanAbsoluteError,
              "binary_crossentropy": keras.losses.BinaryCrossentropy,
              "categorical_crossentropy": keras.losses.CategoricalCrossentropy,
              "sparse_categorical_crossentropy": keras.losses.SparseCategoricalCrossentropy}
    cases = []
    rows, batch = 20, 8
    for name, spec, make_optimizer, loss_name, logits in plans:
        model, arch = build(spec, 4, dtype)
        weights = weights_of(model, rng)
        loss = losses[loss_name](from_logits=True) if logits else losses[loss_name]()
        optimizer = make_optimizer()
        model.compile(optimizer=optimizer, loss=loss)
        # Values a float32 can hold: whatever Keras's data adapter does with float64 arrays, they stay the same.
        x = rng.normal(0, 1.0, (rows, 4)).astype(np.float32).astype(dtype)
        if loss_name == "sparse_categorical_crossentropy":
            y = rng.integers(0, 3, (rows, 1)).astype(dtype)
        elif loss_name == "categorical_crossentropy":
            y = np.eye(3, dtype=dtype)[rng.integers(0, 3, rows)]
        elif loss_name == "binary_crossentropy":
            y = rng.integers(0, 2, (rows, 3)).astype(dtype)
        else:
            y = rng.normal(0, 1.0, (rows, 3)).astype(np.float32).astype(dtype)
        step_losses = []
        for start in range(0, rows, batch):
            step_losses.append(float(model.train_on_batch(x[start:start + batch], y[start:start + batch])))
        after_outputs = np.asarray(model(keras.ops.convert_to_tensor(x, dtype=dtype), training=False),
                                   dtype=np.float64).ravel().tolist()
        after = {v.path: np.asarray(v.numpy(), dtype=np.float64).ravel().tolist() for v in model.weights}
        cases.append({"name": f"{name}-{dtype}", "dtype": dtype, "architecture": arch, "weights": weights,
                      "optimizer": optimizer_json(optimizer), "loss": {"name": loss_name, "from_logits": logits},
                      "x": x.astype(np.float64).ravel().tolist(), "y": y.astype(np.float64).ravel().tolist(),
                      "rows": rows, "target_columns": int(y.shape[1]), "batch_size": batch,
                      "step_losses": step_losses, "after_weights": after, "after_outputs": after_outputs, "after_slots": slots_of(optimizer, model),
                      "iterations": int(np.asarray(optimizer.iterations))})
    return cases


def main():
    keras.utils.set_random_seed(7)
    rng = np.random.default_rng(7)
    doc = {"made_by": f"keras {keras.__version__} ({keras.backend.backend()} backend), {pathlib.Path(__file__).name}",
           "forward": [], "training": []}
    for dtype in ("float32", "float64"):
        doc["forward"] += forward_cases(dtype, rng)
        doc["training"] += training_cases(dtype, rng)
    keras.config.set_floatx("float32")
    keras.config.set_dtype_policy("float32")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, separators=(",", ":")))
    print(f"wrote {OUT} ({len(doc['forward'])} forward, {len(doc['training'])} training cases)")


if __name__ == "__main__":
    main()
