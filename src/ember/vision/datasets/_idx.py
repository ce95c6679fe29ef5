"""Reading and writing IDX files (the MNIST / Fashion-MNIST container format).

An IDX file is a 4-byte magic number ``00 00 TT NN`` -- ``TT`` the element type, ``NN`` the
number of dimensions -- then ``NN`` big-endian unsigned 32-bit dimension sizes, then the
elements themselves, big-endian, in C (row-major) order. The files are often gzip-compressed.

Only the standard library and NumPy are used here.
"""

from __future__ import annotations

import gzip
import math
import os
import tempfile
import zlib

import numpy as np

__all__ = ["read_idx", "write_idx", "IDX_DTYPES"]

#: IDX type code -> element dtype (the big-endian form is what the file holds).
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(np.int16),
    0x0C: np.dtype(np.int32),
    0x0D: np.dtype(np.float32),
    0x0E: np.dtype(np.float64),
}
_CODE_FOR_DTYPE = {dt: code for code, dt in IDX_DTYPES.items()}

_GZIP_MAGIC = b"\x1f\x8b"


def _supported() -> str:
    return ", ".join(f"0x{c:02X} {dt.name}" for c, dt in IDX_DTYPES.items())


def _load_bytes(path: str) -> bytes:
    """The file's IDX content: gunzipped when it is gzip data (detected by content, not name)."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise RuntimeError(f"cannot read IDX file {path!r}: {e}") from e
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        raise RuntimeError(f"IDX file {path!r}: corrupt gzip data ({type(e).__name__}: {e})") from e


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file, gzip-compressed or raw, into a new native-endian, writable array.

    Gzip is detected from the file's first bytes, so the name need not end in ``.gz``.
    Any problem -- unreadable file, corrupt gzip data, bad magic number, unknown type code,
    or a data size that does not match the header's dimensions (truncated file or trailing
    bytes) -- raises ``RuntimeError`` whose message names the file and what is wrong.
    """
    path = os.fspath(path)
    data = _load_bytes(path)
    if len(data) < 4:
        raise RuntimeError(
            f"IDX file {path!r} is truncated: {len(data)} bytes, shorter than the 4-byte magic number"
        )
    if data[0] != 0 or data[1] != 0:
        raise RuntimeError(
            f"IDX file {path!r} has a bad magic number {data[:4].hex()}: "
            "an IDX file starts with two zero bytes (00 00 <type> <ndim>)"
        )
    code, ndim = data[2], data[3]
    if code not in IDX_DTYPES:
        raise RuntimeError(
            f"IDX file {path!r} has a bad magic number {data[:4].hex()}: "
            f"unknown data type code 0x{code:02X} (supported: {_supported()})"
        )
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise RuntimeError(
            f"IDX file {path!r} is truncated: its header declares {ndim} dimensions, needing "
            f"{header_len} header bytes, but the file has only {len(data)} bytes"
        )
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = math.prod(dims) * dtype.itemsize  # Python ints: no overflow on a corrupt header
    actual = len(data) - header_len
    if actual != expected:
        what = "truncated" if actual < expected else "longer than its header says"
        raise RuntimeError(
            f"IDX file {path!r} is {what}: header dims {dims} of {dtype.name} need {expected} "
            f"data bytes, but the file has {actual}"
        )
    arr = np.frombuffer(data, dtype=dtype.newbyteorder(">"), offset=header_len).reshape(dims)
    return arr.astype(dtype)  # native byte order; always a fresh, writable copy


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_idx(path: str | os.PathLike, array, *, compresslevel: int = 9) -> None:
    """Write ``array`` to ``path`` as an IDX file; gzip-compressed when the name ends in ``.gz``.

    The dtype must be one IDX can hold (uint8, int8, int16, int32, float32, float64); any
    other raises ``TypeError`` rather than being cast silently. The gzip stream carries no
    file name and a zero timestamp, so equal arrays give byte-identical files. The write is
    atomic: the data goes to a temporary file in the same directory, which then replaces
    ``path`` with ``os.replace``; on any error the temporary file is removed and an existing
    ``path`` is left as it was.
    """
    path = os.fspath(path)
    arr = np.asarray(array)
    dtype = arr.dtype.newbyteorder("=")
    code = _CODE_FOR_DTYPE.get(dtype)
    if code is None:
        raise TypeError(f"write_idx({path!r}): dtype {arr.dtype} cannot be stored in IDX (supported: "
                        f"{_supported()})")
    if arr.ndim > 255:
        raise ValueError(f"write_idx({path!r}): IDX holds at most 255 dimensions, got {arr.ndim}")
    if any(d >= 2**32 for d in arr.shape):
        raise ValueError(f"write_idx({path!r}): dimension sizes must be < 2**32, got {arr.shape}")

    header = bytes([0, 0, code, arr.ndim]) + np.asarray(arr.shape, dtype=">u4").tobytes()
    payload = np.ascontiguousarray(arr, dtype=dtype.newbyteorder(">")).tobytes()

    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            if path.endswith(".gz"):
                with gzip.GzipFile(filename="", mode="wb", fileobj=f, compresslevel=compresslevel,
                                   mtime=0) as gz:
                    gz.write(header)
                    gz.write(payload)
            else:
                f.write(header)
                f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it 0600; give it a normal file's mode
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
