"""Writes the .mkf cases of Fixtures/bad/mkf/ that issue 9 added (what spec/binary-format.md refuses, member by
member), each with the fragment of the error `modelkit check` must print beside it (`<case>.expect`). Every file is
framed from the spec with correct checksums, so that only the check the case is about can refuse it. The older cases
in that folder were made by hand once and are kept as committed.

Run from the repository root:  .venv/bin/python tools/interop/make_mkf_bad_fixtures.py
Tests/ModelFormatTests/MKFSpecAgreementTests.swift builds the same files in Swift and states the exact ModelError.
"""
import json
import pathlib
import struct

from mkf_reader import MAGIC, TRAILER_MAGIC, align64, crc32c

ROOT = pathlib.Path(__file__).resolve().parents[2]
BAD = ROOT / "Fixtures" / "bad" / "mkf"

# A 2→1 dense layer without bias: one weight, `d/kernel`, f32 [2, 1].
ARCHITECTURE = {"input_shape": [2], "layers": [
    {"name": "d", "type": "dense", "units": 1, "activation": "linear", "use_bias": False}]}
ADAM = {"type": "adam", "iteration": 1, "learning_rate": 0.001}
ZEROS = bytes(8)


def weight(name="d/kernel", dtype="f32"):
    return {"name": name, "role": "weight", "dtype": dtype, "shape": [2, 1]}


def slot(name, parameter, slot_name, dtype="f32"):
    return {"name": name, "role": "optimizer_slot", "parameter": parameter, "slot": slot_name, "dtype": dtype,
            "shape": [2, 1]}


def frame(tensors, optimizer=None, preamble_reserved=0, trailer_reserved=0, major=1):
    """The whole file: tensors (header entries without offset/length/crc32c) each holding 8 zero bytes."""
    data, file_crcs = b"", []
    for entry in tensors:
        entry.update(offset=len(data), length=len(ZEROS), crc32c=crc32c(ZEROS))
        data += ZEROS + bytes(align64(len(ZEROS)) - len(ZEROS))
        file_crcs.append(entry["crc32c"])
    header = {"architecture": ARCHITECTURE, "tensors": tensors}
    if optimizer is not None:
        header["optimizer"] = optimizer
    body = json.dumps(header, separators=(",", ":")).encode()
    preamble = MAGIC + struct.pack("<HHIQI", major, 0, 0, len(body), preamble_reserved)
    header_crc = crc32c(body, crc32c(preamble))
    out = preamble + struct.pack("<I", header_crc) + body
    out += bytes(align64(len(out)) - len(out)) + data
    file_crc = crc32c(struct.pack("<I", header_crc))
    for c in file_crcs:
        file_crc = crc32c(struct.pack("<I", c), file_crc)
    trailer = TRAILER_MAGIC + struct.pack("<QIII", len(out), file_crc, len(tensors), trailer_reserved)
    return out + trailer + struct.pack("<I", crc32c(trailer))


# name: (file bytes, fragment of the error `modelkit check` must print)
CASES = {
    # Issue 10 made 2.0 a version ModelKit reads; the next major version is the one refused.
    "newer-major-version": (frame([weight()], major=3), "version 3.0 is not supported"),
    "reserved-preamble-word": (frame([weight()], preamble_reserved=7),
                               "reserved word of the preamble at byte 24 is 7, must be 0"),
    "reserved-trailer-word": (frame([weight()], trailer_reserved=1),
                              "reserved word of the trailer at byte 408 is 1, must be 0"),
    "slot-misnamed": (frame([weight(), slot("optimizer/d/kernel/velocity", "d/kernel", "momentum")], ADAM),
                      "tensor 'optimizer/d/kernel/velocity': an optimizer slot must be named 'optimizer/d/kernel/momentum'"),
    "duplicate-slot": (frame([weight(), slot("optimizer/d/kernel/momentum", "d/kernel", "momentum"),
                              slot("optimizer/d/kernel/momentum_copy", "d/kernel", "momentum")], ADAM),
                       "tensors 'optimizer/d/kernel/momentum' and 'optimizer/d/kernel/momentum_copy' are both slot 'momentum' of 'd/kernel'"),
    "slot-the-optimizer-does-not-keep": (
        frame([weight(), slot("optimizer/d/kernel/average_gradient", "d/kernel", "average_gradient")], ADAM),
        "tensor 'optimizer/d/kernel/average_gradient': adam without amsgrad keeps no such slot (its slots: momentum, velocity)"),
    "sgd-momentum-slot-without-momentum": (
        frame([weight(), slot("optimizer/d/kernel/momentum", "d/kernel", "momentum")],
              {"type": "sgd", "iteration": 1, "learning_rate": 0.1}),
        "tensor 'optimizer/d/kernel/momentum': sgd with momentum 0.0 keeps no such slot (it keeps none)"),
    "integer-slot": (frame([weight(), slot("optimizer/d/kernel/momentum", "d/kernel", "momentum", dtype="i32")], ADAM),
                     "unknown dtype 'i32' at tensor 'optimizer/d/kernel/momentum' (optimizer slots must be floating point)"),
}


def main():
    for name, (data, expect) in CASES.items():
        (BAD / f"{name}.mkf").write_bytes(data)
        (BAD / f"{name}.expect").write_text(expect + "\n")


if __name__ == "__main__":
    main()
