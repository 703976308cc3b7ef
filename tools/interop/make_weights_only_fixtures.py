"""Writes Fixtures/safetensors/torch-style-mixed/model.safetensors: a weights-only file as PyTorch tools write them
(`__metadata__` {"format": "pt"}, PyTorch names, mixed dtypes: a BatchNorm's i64 `num_batches_tracked` scalar, f16 and
bool tensors), written by the safetensors package itself. The .mkf 2.0 golden files in Fixtures/mkf/v2/ are made
from it and from Fixtures/safetensors/torch-mlp by `modelkit convert` (see Fixtures/mkf/v2/README.md).

Run from the repository root:  .venv/bin/python tools/interop/make_weights_only_fixtures.py
"""
import pathlib

import numpy as np
from safetensors.numpy import save_file

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "Fixtures" / "safetensors" / "torch-style-mixed"


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    tensors = {
        "conv.weight": np.arange(2 * 1 * 3, dtype=np.float16).reshape(2, 1, 3) / 4,
        "bn.weight": np.array([1.0, 0.5], dtype=np.float32),
        "bn.running_mean": np.array([0.25, -0.75], dtype=np.float32),
        "bn.num_batches_tracked": np.array(7, dtype=np.int64),
        "mask": np.array([True, False, True]),
        "ids": np.array([3, 255, 0], dtype=np.uint8),
    }
    save_file(tensors, str(OUT / "model.safetensors"), metadata={"format": "pt", "note": "made by safetensors.numpy"})


if __name__ == "__main__":
    main()
