"""Training and prediction throughput of ModelKit's reference engine beside Keras 3 on JAX, same machine, same run.

Model: 784-256relu-128relu-10softmax, Adam (Keras defaults), sparse categorical cross-entropy, float32.
Training: one epoch over TRAIN_ROWS in-memory samples at batch 64, file order (Keras: fit(shuffle=False)).
Prediction: PREDICT_ROWS samples at batch 1000 (Keras: predict(batch_size=1000)).
Each figure is the median of --repeats runs after one warm-up (Keras compiles its step functions then).
ModelKit runs `engine-bench` (release build, OpenBLAS on one thread); Keras/XLA uses every core it sees.

    .venv/bin/python tools/benchmarks/engine_bench.py [--repeats 5] [--train-rows 6400] [--predict-rows 10000]
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

ROOT = pathlib.Path(__file__).resolve().parents[2]


def modelkit_figures(args):
    binary = ROOT / ".build" / "release" / "engine-bench"
    if not args.no_build:
        subprocess.run(["swift", "build", "-c", "release", "--product", "engine-bench"], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    out = subprocess.run([str(binary), "--train-rows", str(args.train_rows), "--predict-rows", str(args.predict_rows),
                          "--train-batch", "64", "--predict-batch", "1000", "--repeats", str(args.repeats)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def keras_figures(args):
    import keras
    import numpy as np

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(12345)
    x = rng.random((max(args.train_rows, args.predict_rows), 784), dtype=np.float32)
    y = rng.integers(0, 10, args.train_rows)
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(256, activation="relu"),
                              keras.layers.Dense(128, activation="relu"), keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(), loss="sparse_categorical_crossentropy")
    xt = x[:args.train_rows]
    model.fit(xt, y, batch_size=64, epochs=1, shuffle=False, verbose=0)  # warm-up: compiles the train step
    train = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        model.fit(xt, y, batch_size=64, epochs=1, shuffle=False, verbose=0)
        train.append(time.perf_counter() - start)
    xp = x[:args.predict_rows]
    model.predict(xp, batch_size=1000, verbose=0)  # warm-up
    predict = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        model.predict(xp, batch_size=1000, verbose=0)
        predict.append(time.perf_counter() - start)
    return {"train_samples_per_s": args.train_rows / statistics.median(train),
            "predict_samples_per_s": args.predict_rows / statistics.median(predict),
            "train_seconds": train, "predict_seconds": predict}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--train-rows", type=int, default=6400)
    parser.add_argument("--predict-rows", type=int, default=10000)
    parser.add_argument("--no-build", action="store_true", help="use the existing .build/release/engine-bench")
    args = parser.parse_args()
    ours = modelkit_figures(args)
    theirs = keras_figures(args)
    print(f"784-256relu-128relu-10softmax, Adam, float32; median of {args.repeats} runs; cpus: {os.cpu_count()}")
    print(f"{'':24}{'ModelKit':>14}{'Keras (JAX)':>14}{'ratio':>9}")
    for key, label in (("train_samples_per_s", "train samples/s (b=64)"), ("predict_samples_per_s", "predict samples/s (b=1000)")):
        print(f"{label:24}{ours[key]:14.0f}{theirs[key]:14.0f}{ours[key] / theirs[key]:9.2f}")


if __name__ == "__main__":
    main()
