"""A reader for .mkf v1 written from spec/binary-format.md alone, independent of the Swift code: if the two disagree,
either the writer or the spec is wrong."""
import json
import struct

import numpy as np

MAGIC = b"\x89MKF\r\n\x1a\n"
TRAILER_MAGIC = b"MKF_END\0"
DTYPES = {"f16": "<f2", "f32": "<f4", "f64": "<f8", "i8": "i1", "u8": "u1", "i16": "<i2", "i32": "<i4",
          "i64": "<i8", "bool": "u1", "bf16": "<u2"}


def _crc32c_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes, crc: int = 0) -> int:
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def align64(n: int) -> int:
    return (n + 63) // 64 * 64


class MKFError(Exception):
    pass


def read(path):
    """Returns (header dict, {name: numpy array}); raises MKFError naming the failed check."""
    data = open(path, "rb").read()
    if len(data) < 64 or data[:8] != MAGIC:
        raise MKFError("bad magic or too short")
    major, minor, flags, hlen, reserved, hcrc = struct.unpack_from("<HHIQII", data, 8)
    if major != 1:
        raise MKFError(f"major version {major}")
    if 32 + hlen > len(data):
        raise MKFError("header runs past the end")
    header_bytes = data[32:32 + hlen]
    if crc32c(header_bytes, crc32c(data[:28])) != hcrc:
        raise MKFError("header checksum")
    if reserved != 0:
        raise MKFError(f"reserved word at byte 24 is {reserved}")
    header = json.loads(header_bytes.decode("utf-8"))
    d = align64(32 + hlen)
    if any(data[32 + hlen:d]):
        raise MKFError("padding after header")
    tensors, end, file_crc = {}, 0, crc32c(struct.pack("<I", hcrc))
    for entry in header["tensors"]:
        off, length = entry["offset"], entry["length"]
        if off != align64(end):
            raise MKFError(f"tensor {entry['name']}: offset {off}, expected {align64(end)}")
        if any(data[d + end:d + off]):
            raise MKFError("padding between tensors")
        raw = data[d + off:d + off + length]
        if len(raw) != length or crc32c(raw) != entry["crc32c"]:
            raise MKFError(f"tensor {entry['name']}")
        file_crc = crc32c(struct.pack("<I", entry["crc32c"]), file_crc)
        tensors[entry["name"]] = np.frombuffer(raw, dtype=DTYPES[entry["dtype"]]).reshape(entry["shape"])
        end = off + length
    t = d + align64(end)
    if len(data) != t + 32 or any(data[d + end:t]):
        raise MKFError("trailer position or padding")
    magic, stored_t, stored_file_crc, count, reserved2, tcrc = struct.unpack_from("<8sQIIII", data, t)
    if (magic, stored_t, stored_file_crc, count) != (TRAILER_MAGIC, t, file_crc, len(header["tensors"])):
        raise MKFError("trailer fields")
    if crc32c(data[t:t + 28]) != tcrc:
        raise MKFError("trailer checksum")
    if reserved2 != 0:
        raise MKFError(f"reserved word at byte {t + 24} is {reserved2}")
    return header, tensors
