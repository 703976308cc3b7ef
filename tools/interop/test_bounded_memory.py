"""Bounded memory (issue 6, section 2): whatever a file claims, no reader allocates much more than the file's size.

Each format gets a small valid file whose header is then rewritten so that the architecture and the tensor shapes
agree on a Dense kernel of 2^30 x 2^30 = 2^60 elements (4 EiB as float32) while the data stays a few bytes. The CLI
runs under an address-space limit of 1 GiB (`ulimit -v`): an attempt to allocate what the header claims fails there
and ends the process with a signal, so the test requires exit 1 with a message. The catalogue of hostile files in
Fixtures/bad/ is run the same way.
"""
import io
import json
import struct
import subprocess
import zipfile

import h5py
import numpy as np
import pytest

import mkf_reader

HUGE = 1 << 30
ADDRESS_SPACE_KIB = 1 << 20  # 1 GiB


def run_limited(bin_path, args, cwd):
    script = f'ulimit -v {ADDRESS_SPACE_KIB}; exec "$@"'
    return subprocess.run(["bash", "-c", script, "bash", str(bin_path), *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def enlarge_text(text):
    """Rewrites a 4-3 Dense model's JSON so that it claims a 2^30 x 2^30 kernel and a 2^30 bias."""
    out = (text.replace('"input_shape":[4]', f'"input_shape":[{HUGE}]')
               .replace('"units":3', f'"units":{HUGE}')
               .replace('"shape":[4,3]', f'"shape":[{HUGE},{HUGE}]')
               .replace('"shape":[3]', f'"shape":[{HUGE}]'))
    assert out != text
    return out


def huge_mkf(small, path):
    data = small.read_bytes()
    header_length = struct.unpack_from("<Q", data, 16)[0]
    header = json.loads(data[32:32 + header_length])
    header["architecture"]["input_shape"] = [HUGE]
    header["architecture"]["layers"][0]["units"] = HUGE
    offset = 0
    for entry in header["tensors"]:
        entry["shape"] = [HUGE, HUGE] if entry["name"].endswith("kernel") else [HUGE]
        entry["offset"] = offset
        entry["length"] = 4 * int(np.prod(entry["shape"], dtype=object))
        offset = mkf_reader.align64(offset + entry["length"])
    body = json.dumps(header, separators=(",", ":")).encode()
    preamble = bytearray(data[:28])
    struct.pack_into("<Q", preamble, 16, len(body))
    crc = mkf_reader.crc32c(body, mkf_reader.crc32c(bytes(preamble)))
    start = mkf_reader.align64(32 + len(body))
    rest = data[mkf_reader.align64(32 + header_length):]
    path.write_bytes(bytes(preamble) + struct.pack("<I", crc) + body + b"\0" * (start - 32 - len(body)) + rest)


def huge_safetensors(small, path):
    data = small.read_bytes()
    n = struct.unpack_from("<Q", data)[0]
    header = json.loads(data[8:8 + n])
    header["__metadata__"]["architecture"] = enlarge_text(header["__metadata__"]["architecture"])
    header["dense/kernel"]["shape"] = [HUGE, HUGE]
    header["dense/bias"]["shape"] = [HUGE]
    body = json.dumps(header, separators=(",", ":")).encode()
    body += b" " * (-len(body) % 8)
    path.write_bytes(struct.pack("<Q", len(body)) + body + data[8 + n:])


def huge_npz(small, path):
    with zipfile.ZipFile(small) as z:
        members = {name: z.read(name) for name in z.namelist()}
    out = {}
    for name, raw in members.items():
        array = np.load(io.BytesIO(raw))
        if name == "__modelkit__.npy":
            state = enlarge_text(array.tobytes().decode())
            buffer = io.BytesIO()
            np.save(buffer, np.frombuffer(state.encode(), dtype=np.uint8))
            out[name] = buffer.getvalue()
        else:
            # Keep the array's bytes; only the .npy header's shape grows.
            shape = (HUGE, HUGE) if array.ndim == 2 else (HUGE,)
            header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}"
            header += " " * (-(10 + len(header) + 1) % 64) + "\n"
            out[name] = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + array.tobytes()
    with zipfile.ZipFile(path, "w") as z:
        for name, raw in out.items():
            z.writestr(name, raw)


def huge_json(small, path):
    path.write_text(enlarge_text(small.read_text().replace("\n", "")))


def huge_csv(small, path):
    import shutil
    shutil.copytree(small, path)
    manifest = (path / "manifest.csv").read_text()
    (path / "manifest.csv").write_text(manifest.replace(",4x3,", f",{HUGE}x{HUGE},").replace(",3,", f",{HUGE},"))
    (path / "model.json").write_text(enlarge_text((path / "model.json").read_text()))


def huge_h5(small, path):
    import shutil
    shutil.copyfile(small, path)
    with h5py.File(path, "r+") as f:
        # The architecture is stored as JSON and as attribute views that must agree (spec/hdf5-layout.md).
        architecture = f["architecture"]
        architecture.attrs["architecture_json"] = enlarge_text(architecture.attrs["architecture_json"])
        architecture.attrs["input_shape"] = np.array([HUGE], dtype=np.int64)
        architecture["layers/dense"].attrs["units"] = np.int64(HUGE)
        for name, shape in (("weights/dense/kernel", (HUGE, HUGE)), ("weights/dense/bias", (HUGE,))):
            attrs = dict(f[name].attrs)
            del f[name]
            # Chunked and never written: the file stays small while the dataset claims 2^60 elements.
            dataset = f.create_dataset(name, shape=shape, dtype="<f4", chunks=(1,) * len(shape))
            for key, value in attrs.items():
                dataset.attrs[key] = value


MAKERS = {"mkf": huge_mkf, "safetensors": huge_safetensors, "npz": huge_npz, "json": huge_json, "csv": huge_csv,
          "h5": huge_h5}


@pytest.fixture(scope="module")
def small_files(module_dir, modelkit_bin):
    subprocess.run([str(modelkit_bin), "init", "--arch", "4-3", "--seed", "1", "-o", str(module_dir / "s.mkf")],
                   check=True, capture_output=True)
    for fmt in MAKERS:
        if fmt != "mkf":
            subprocess.run([str(modelkit_bin), "convert", str(module_dir / "s.mkf"), str(module_dir / f"s.{fmt}"),
                            "--to", fmt], check=True, capture_output=True)
    return module_dir


@pytest.mark.parametrize("fmt", sorted(MAKERS))
def test_a_header_claiming_2_to_the_60_elements_is_refused_within_1_gib(fmt, small_files, modelkit_bin, workdir):
    small = small_files / f"s.{fmt}"
    assert run_limited(modelkit_bin, ["check", small], workdir).returncode == 0, "the limit itself breaks a check"
    huge = workdir / f"huge.{fmt}"
    MAKERS[fmt](small, huge)
    for args in (["check", huge], ["inspect", huge], ["convert", huge, workdir / "out.mkf"]):
        proc = run_limited(modelkit_bin, args, workdir)
        assert proc.returncode == 1, f"{args[0]} {fmt}: exit {proc.returncode}\n{proc.stderr[-2000:]}"
        assert proc.stderr.startswith("modelkit: "), proc.stderr
        # Refused for the claimed size, naming the tensor, not for a side issue of the rewrite.
        assert "dense/kernel" in proc.stderr, proc.stderr


def catalogue():
    import pathlib
    root = pathlib.Path(__file__).resolve().parents[2] / "Fixtures" / "bad"
    return sorted(p for p in root.glob("*/*") if p.suffix != ".expect")


@pytest.mark.parametrize("path", catalogue(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_hostile_catalogue_files_are_refused_within_1_gib(path, modelkit_bin, workdir):
    proc = run_limited(modelkit_bin, ["check", path], workdir)
    assert proc.returncode == 1, f"exit {proc.returncode}\n{proc.stderr[-2000:]}"
    assert proc.stderr.startswith("modelkit: "), proc.stderr
