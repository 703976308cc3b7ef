"""The engine against Keras 3 (JAX) from the outside: a model made by `modelkit init`, handed to Keras through
`convert --to keras-h5`, trained the same number of steps on the same batches by both; predictions must agree
within 1e-5. Covers each optimizer family and each loss, and `predict`'s CSV output.
"""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

PLANS = [
    # (modelkit --optimizer, Keras optimizer, modelkit --loss, Keras loss, output activation, targets)
    ("sgd:lr=0.05,momentum=0.9,nesterov=true", lambda: keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
     "mse", "mse", "", "regression"),
    ("adam:lr=0.01", lambda: keras.optimizers.Adam(0.01), "categorical_crossentropy", "categorical_crossentropy",
     "softmax", "onehot"),
    ("adam:lr=0.01,amsgrad=true", lambda: keras.optimizers.Adam(0.01, amsgrad=True),
     "sparse_categorical_crossentropy:from_logits=true",
     keras.losses.SparseCategoricalCrossentropy(from_logits=True), "", "labels"),
    ("rmsprop:lr=0.005,momentum=0.5,centered=true", lambda: keras.optimizers.RMSprop(0.005, momentum=0.5, centered=True),
     "binary_crossentropy", "binary_crossentropy", "sigmoid", "multilabel"),
    ("rmsprop:lr=0.01", lambda: keras.optimizers.RMSprop(0.01), "mae", "mae", "", "regression"),
]


def data(kind, rows=40, seed=5):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (rows, 6)).astype(np.float32)
    w = rng.normal(0, 1, (6, 3)).astype(np.float32)
    scores = x @ w
    if kind == "regression":
        y = scores
    elif kind == "multilabel":
        y = (scores > 0).astype(np.float32)
    else:
        labels = scores.argmax(axis=1)
        y = np.eye(3, dtype=np.float32)[labels] if kind == "onehot" else labels.reshape(-1, 1).astype(np.float32)
    return x, y


def save_csv(path, array):
    np.savetxt(path, array, delimiter=",", fmt="%.9g")


@pytest.mark.parametrize("plan", PLANS, ids=[p[0] + " " + p[2] for p in PLANS])
def test_training_matches_keras(modelkit, workdir, plan):
    mk_optimizer, keras_optimizer, mk_loss, keras_loss, activation, targets = plan
    x, y = data(targets)
    save_csv(workdir / "x.csv", x)
    save_csv(workdir / "y.csv", y)
    modelkit("init", "--arch", f"6-16tanh-8relu-3{activation}", "--seed", "3", "--optimizer", mk_optimizer,
             "--loss", mk_loss, "-o", "m.mkf", expect=0)
    modelkit("convert", "m.mkf", "m.h5", "--to", "keras-h5", expect=0)
    batch, steps = 8, 7  # 40 rows: an epoch of 5 batches, then 2 more
    modelkit("train", "m.mkf", "--x", "x.csv", "--y", "y.csv", "--steps", steps, "--batch-size", batch,
             "-o", "t.mkf", expect=0)
    modelkit("predict", "t.mkf", "--input", "x.csv", "-o", "ours.csv", expect=0)

    model = keras.models.load_model(workdir / "m.h5", compile=False)
    model.compile(optimizer=keras_optimizer(), loss=keras_loss)
    for step in range(steps):
        start = (step * batch) % len(x)
        model.train_on_batch(x[start:start + batch], y[start:start + batch])
    theirs = model.predict(x, verbose=0)
    ours = np.loadtxt(workdir / "ours.csv", delimiter=",", dtype=np.float32, ndmin=2)
    np.testing.assert_allclose(ours, theirs, atol=1e-5, rtol=0)


def test_predict_matches_keras_on_a_model_modelkit_made(modelkit, workdir):
    x, _ = data("regression", rows=25)
    save_csv(workdir / "x.csv", x)
    modelkit("init", "--arch", "6-16gelu-8selu-3softmax", "--seed", "11", "-o", "m.mkf", expect=0)
    modelkit("convert", "m.mkf", "m.h5", "--to", "keras-h5", expect=0)
    modelkit("predict", "m.mkf", "--input", "x.csv", "-o", "ours.csv", expect=0)
    theirs = keras.models.load_model(workdir / "m.h5", compile=False).predict(x, verbose=0)
    ours = np.loadtxt(workdir / "ours.csv", delimiter=",", dtype=np.float32, ndmin=2)
    np.testing.assert_allclose(ours, theirs, atol=1e-6, rtol=0)
