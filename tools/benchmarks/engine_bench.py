"""Training and prediction throughput of ModelKit's reference engine beside Keras 3 on JAX, same machine, same run.

Model: 784-256relu-128relu-10softmax, Adam (Keras defaults), sparse categorical cross-entropy, float32.
Training: one epoch over TRAIN_ROWS in-memory samples at batch 64, file order (Keras: fit(shuffle=False)).
Prediction: PREDICT_ROWS samples at batch 1000 (Keras: predict(batch_size=1000)).
Each figure is the median of --repeats runs after one warm-up (Keras compiles its step functions then); ModelKit's
and Keras's runs alternate, so that both see the same load on a shared machine.
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


def build(args):
    if not args.no_build:
        subprocess.run(["swift", "build", "-c", "release", "--product", "engine-bench"], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)


def modelkit_once(args):
    """One timed training epoch and one timed prediction pass, after one untimed warm-up of each."""
    binary = ROOT / ".build" / "release" / "engine-bench"
    out = subprocess.run([str(binary), "--train-rows", str(args.train_rows), "--predict-rows", str(args.predict_rows),
                          "--train-batch", "64", "--predict-batch", "1000", "--repeats", "1", "--warmup", "1"],
                         check=True, capture_output=True, text=True)
    f = json.loads(out.stdout)
    return f["train_seconds"][0], f["predict_seconds"][0], f["train_cpu_seconds"][0], f["predict_cpu_seconds"][0]


class KerasSide:
    def __init__(self, args):
        import keras
        import numpy as np

        keras.utils.set_random_seed(0)
        rng = np.random.default_rng(12345)
        x = rng.random((max(args.train_rows, args.predict_rows), 784), dtype=np.float32)
        self.y = rng.integers(0, 10, args.train_rows)
        self.xt, self.xp = x[:args.train_rows], x[:args.predict_rows]
        self.model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(256, activation="relu"),
                                       keras.layers.Dense(128, activation="relu"),
                                       keras.layers.Dense(10, activation="softmax")])
        self.model.compile(optimizer=keras.optimizers.Adam(), loss="sparse_categorical_crossentropy")
        self.once()  # warm-up: compiles the train and predict steps

    def once(self):
        """Wall seconds of one epoch and one prediction pass, then their CPU seconds (every thread of the process)."""
        start, start_cpu = time.perf_counter(), time.process_time()
        self.model.fit(self.xt, self.y, batch_size=64, epochs=1, shuffle=False, verbose=0)
        middle, middle_cpu = time.perf_counter(), time.process_time()
        self.model.predict(self.xp, batch_size=1000, verbose=0)
        end, end_cpu = time.perf_counter(), time.process_time()
        return middle - start, end - middle, middle_cpu - start_cpu, end_cpu - middle_cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--train-rows", type=int, default=6400)
    parser.add_argument("--predict-rows", type=int, default=10000)
    parser.add_argument("--no-build", action="store_true", help="use the existing .build/release/engine-bench")
    args = parser.parse_args()
    build(args)
    load_before = os.getloadavg()[0]
    keras_side = KerasSide(args)
    # Interleaved, one ModelKit run then one Keras run per repeat, so that both see the same load on a shared machine.
    ours, theirs = [], []
    for _ in range(args.repeats):
        ours.append(modelkit_once(args))
        theirs.append(keras_side.once())
    rates = {side: [(args.train_rows if i % 2 == 0 else args.predict_rows) / statistics.median(r[i] for r in runs)
                    for i in range(4)] for side, runs in (("ModelKit", ours), ("Keras", theirs))}
    print(f"784-256relu-128relu-10softmax, Adam, float32; median of {args.repeats} interleaved runs; "
          f"cpus: {os.cpu_count()}; load average before/after: {load_before:.1f}/{os.getloadavg()[0]:.1f}")
    print(f"{'':34}{'ModelKit':>12}{'Keras (JAX)':>14}{'ratio':>8}")
    labels = ("train samples/s (b=64)", "predict samples/s (b=1000)",
              "train samples per CPU-second", "predict samples per CPU-second")
    for i, label in enumerate(labels):
        print(f"{label:34}{rates['ModelKit'][i]:12.0f}{rates['Keras'][i]:14.0f}{rates['ModelKit'][i] / rates['Keras'][i]:8.2f}")
    print("(samples/s is the goal; samples per CPU-second shows the arithmetic's cost whatever else the machine runs:"
          " ModelKit runs large products on two threads and the rest on one; XLA uses every core)")

if __name__ == "__main__":
    main()
