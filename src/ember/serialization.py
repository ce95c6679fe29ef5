"""``ember.save`` / ``ember.load``: checkpoints that cannot execute code when loaded.

Format: one safetensors file (https://huggingface.co/docs/safetensors): an 8-byte little-endian header
length, a JSON header naming each tensor's dtype, shape and byte range, then the raw little-endian bytes.
The Python object around the tensors (nested dicts, lists, tuples, numbers, strings; tensors by
reference) is kept as JSON in the header's ``__metadata__["ember"]``. Any safetensors reader (e.g.
``safetensors.torch.load_file``) reads the tensors; ``ember.load`` rebuilds the whole object.

``ember.load`` also reads PyTorch's zip checkpoints (``torch.save``) without torch and without running
pickled code: a restricted unpickler admits only the few globals a checkpoint uses (tensor rebuild
functions, storage types, OrderedDict, dtypes...) and maps them to ember objects.

The safetensors format is written and read here directly (it is small and documented) so that ember
needs only NumPy; writing streams each tensor's bytes without building the file in memory. The
``safetensors`` package, where installed, is what the tests use to check that the files are valid.
"""
from __future__ import annotations

import io
import json
import math
import os
import pickle
import struct
import tempfile
import zipfile
import zlib
from collections import OrderedDict

import numpy as np

from . import _dtypes
from ._device import device as _device
from ._tensor import Size, Tensor

__all__ = ["save", "load"]

_ST_DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32,
              "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_, "C64": np.complex64,
              "U16": np.uint16, "U32": np.uint32, "U64": np.uint64}
_ST_NAMES = {np.dtype(v): k for k, v in _ST_DTYPES.items()}
_META_KEY = "ember"
_FORMAT = "ember/1"


# ---------------------------------------------------------------------------------------------
# save
class _Encoder:
    """Walks an object, turning it into JSON and collecting its tensors (each distinct tensor once)."""

    def __init__(self):
        self.tensors = {}     # safetensors key -> contiguous little-endian array
        self.by_id = {}       # id(tensor) -> key
        self.keep = []        # keeps encoded tensors alive so ids stay unique

    def _key(self, path):
        base = ".".join(str(p) for p in path) or "tensor"
        key, n = base, 1
        while key in self.tensors:
            key, n = f"{base}#{n}", n + 1
        return key

    def tensor(self, t, path, is_array=False):
        if id(t) in self.by_id:
            key = self.by_id[id(t)]
        else:
            arr = t if is_array else t._data
            if arr.dtype.kind == "c" and arr.dtype != np.complex64:
                raise TypeError(f"ember.save: dtype {arr.dtype} is not supported by the safetensors format")
            if np.dtype(arr.dtype) not in _ST_NAMES:
                raise TypeError(f"ember.save: cannot save a tensor of dtype {arr.dtype}")
            key = self._key(path)
            # np.ascontiguousarray would turn 0-d arrays into 1-d ones
            arr = arr if arr.flags.c_contiguous else np.array(arr, order="C")
            self.tensors[key] = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
            self.by_id[id(t)] = key
            self.keep.append(t)
        if is_array:
            return {"$t": "ndarray", "k": key}
        from .nn.parameter import Parameter
        out = {"$t": "tensor", "k": key}
        if isinstance(t, Parameter):
            out["param"] = True
        if t.requires_grad:
            out["rg"] = True
        return out

    def encode(self, obj, path=()):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return obj
        if isinstance(obj, float):
            if math.isfinite(obj):
                return obj
            return {"$t": "float", "v": repr(obj)}
        if isinstance(obj, Tensor):
            return self.tensor(obj, path)
        if isinstance(obj, np.ndarray):
            return self.tensor(obj, path, is_array=True)
        if isinstance(obj, np.generic):
            return self.encode(obj.item(), path)
        if isinstance(obj, Size):
            return {"$t": "size", "v": [int(s) for s in obj]}
        if isinstance(obj, _dtypes.dtype):
            return {"$t": "dtype", "v": obj.name}
        if isinstance(obj, _device):
            return {"$t": "device", "v": str(obj)}
        if isinstance(obj, complex):
            return {"$t": "complex", "v": [obj.real, obj.imag]}
        if isinstance(obj, (bytes, bytearray)):
            return {"$t": "bytes", "v": bytes(obj).hex()}
        if isinstance(obj, list):
            return [self.encode(v, path + (i,)) for i, v in enumerate(obj)]
        if isinstance(obj, tuple) and type(obj) is tuple:
            return {"$t": "tuple", "v": [self.encode(v, path + (i,)) for i, v in enumerate(obj)]}
        if isinstance(obj, (set, frozenset)):
            return {"$t": type(obj).__name__, "v": [self.encode(v, path) for v in obj]}
        if isinstance(obj, dict):
            kind = "odict" if isinstance(obj, OrderedDict) else "dict"
            keys = list(obj.keys())
            return {"$t": kind, "k": [self.encode(k, path) for k in keys],
                    "v": [self.encode(obj[k], path + (k,)) for k in keys]}
        raise TypeError(f"ember.save: cannot save an object of type {type(obj).__module__}.{type(obj).__qualname__} "
                        "(checkpoints hold tensors, numbers, strings, None and dicts/lists/tuples of them; "
                        "save a module's state_dict(), not the module)")


def _safetensors_header(tensors: dict, metadata: dict) -> bytes:
    header = {"__metadata__": metadata}
    off = 0
    for k, a in tensors.items():
        header[k] = {"dtype": _ST_NAMES[np.dtype(a.dtype)], "shape": list(a.shape),
                     "data_offsets": [off, off + a.nbytes]}
        off += a.nbytes
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)  # tensors start 8-byte aligned
    return struct.pack("<Q", len(raw)) + raw


def _write(fh, header: bytes, tensors: dict) -> None:
    fh.write(header)
    for a in tensors.values():
        if a.nbytes:
            fh.write(memoryview(a.reshape(-1)).cast("B"))


def _file_mode(path: str) -> int:
    """The mode a plain open(path, 'wb') would give: the existing file's, else 0666 minus the umask."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def save(obj, f, pickle_module=None, pickle_protocol=2, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False) -> None:
    """Save ``obj`` (tensors, state dicts, whole training checkpoints) to path or binary file ``f``.

    Writing to a path is atomic: the data go to a temporary file in the same directory, which is
    fsynced and then renamed over ``f``; a failed save leaves any previous file untouched.
    """
    enc = _Encoder()
    structure = enc.encode(obj)
    meta = {"format": "pt", _META_KEY: json.dumps({"format": _FORMAT, "obj": structure}, allow_nan=True)}
    header = _safetensors_header(enc.tensors, meta)
    if hasattr(f, "write"):
        _write(f, header, enc.tensors)
        return
    path = os.fspath(f)
    d = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(d):
        raise RuntimeError(f"Parent directory {os.path.dirname(path) or d} does not exist.")
    fd, tmp = tempfile.mkstemp(dir=d, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        os.fchmod(fd, _file_mode(path))  # mkstemp's 0600 would make checkpoints private
        with os.fdopen(fd, "wb") as fh:
            _write(fh, header, enc.tensors)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable
        dfd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


# ---------------------------------------------------------------------------------------------
# load
class _Corrupt(Exception):
    pass


def _as_tensor(arr: np.ndarray) -> Tensor:
    if arr.dtype == np.uint16:
        arr = arr.astype(np.int32)
    elif arr.dtype in (np.uint32, np.uint64):
        arr = arr.astype(np.int64)
    return Tensor._make(arr, False, None, 0)


def _read_safetensors(data: bytes):
    """(tensors by key as arrays, metadata) of a safetensors buffer, fully validated."""
    if len(data) < 8:
        raise _Corrupt("file shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise _Corrupt(f"header length {n} exceeds the file size {len(data)}")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _Corrupt(f"invalid JSON header ({e})") from None
    if not isinstance(header, dict):
        raise _Corrupt("the header is not a JSON object")
    meta = header.pop("__metadata__", None) or {}
    body = memoryview(data)[8 + n:]
    arrays, end = {}, 0
    for k, info in sorted(header.items(), key=lambda kv: tuple(kv[1].get("data_offsets", (0, 0)))):
        try:
            dt = np.dtype(_ST_DTYPES[info["dtype"]]) if info["dtype"] != "BF16" else np.dtype(np.uint16)
            shape = tuple(int(s) for s in info["shape"])
            a, b = (int(o) for o in info["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise _Corrupt(f"invalid header entry for tensor {k!r}: {info!r}") from None
        count = math.prod(shape)
        if a != end or b < a or b > len(body) or b - a != count * dt.itemsize:
            raise _Corrupt(f"tensor {k!r}: byte range [{a}, {b}) does not fit the data")
        end = b
        arr = np.frombuffer(body[a:b], dtype=dt.newbyteorder("<")).astype(dt, copy=True).reshape(shape)
        if info["dtype"] == "BF16":
            arr = (arr.astype(np.uint32) << 16).view(np.float32)  # ember keeps bfloat16 values as float32
        arrays[k] = arr
    if end != len(body):
        raise _Corrupt(f"{len(body) - end} bytes of data after the last tensor")
    return arrays, meta


def _decode(x, arrays, memo):
    """Rebuild the saved object; ``memo`` makes a tensor saved twice come back as one object."""
    if isinstance(x, list):
        return [_decode(v, arrays, memo) for v in x]
    if not isinstance(x, dict):
        return x
    t = x.get("$t")
    if t in ("tensor", "ndarray"):
        if x["k"] in memo:
            return memo[x["k"]]
        memo[x["k"]] = out = _decode_tensor(x, arrays[x["k"]], t)
        return out
    if t in ("dict", "odict"):
        items = zip((_decode(k, arrays, memo) for k in x["k"]), (_decode(v, arrays, memo) for v in x["v"]))
        return OrderedDict(items) if t == "odict" else dict(items)
    if t == "tuple":
        return tuple(_decode(v, arrays, memo) for v in x["v"])
    if t in ("set", "frozenset"):
        return (set if t == "set" else frozenset)(_decode(v, arrays, memo) for v in x["v"])
    return _decode_scalar(x, t)


def _decode_tensor(x, arr, t):
    if t == "ndarray":
        return arr
    if x.get("param"):
        from .nn.parameter import Parameter
        return Parameter(_as_tensor(arr), requires_grad=bool(x.get("rg")))
    out = _as_tensor(arr)
    if x.get("rg"):
        out.requires_grad_()
    return out


def _decode_scalar(x, t):
    if t == "float":
        return float(x["v"])
    if t == "size":
        return Size(x["v"])
    if t == "dtype":
        return _dtypes.to_dtype(x["v"])
    if t == "device":
        return _device(x["v"])
    if t == "complex":
        return complex(*x["v"])
    if t == "bytes":
        return bytes.fromhex(x["v"])
    raise _Corrupt(f"unknown object tag {t!r} in the structure")


def _load_safetensors(data: bytes):
    arrays, meta = _read_safetensors(data)
    if _META_KEY not in meta:
        # a plain safetensors file (e.g. from safetensors.torch.save_file): its tensors by name
        return {k: _as_tensor(a) for k, a in arrays.items()}
    try:
        doc = json.loads(meta[_META_KEY])
        return _decode(doc["obj"], arrays, {})
    except (KeyError, TypeError, ValueError, json.JSONDecodeError) as e:
        raise _Corrupt(f"invalid ember structure metadata ({type(e).__name__}: {e})") from None


# ---- PyTorch's zip checkpoints ---------------------------------------------------------------
_STORAGE_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
                   "BFloat16Storage": "bf16", "LongStorage": np.int64, "IntStorage": np.int32,
                   "ShortStorage": np.int16, "CharStorage": np.int8, "ByteStorage": np.uint8,
                   "BoolStorage": np.bool_, "ComplexFloatStorage": np.complex64,
                   "ComplexDoubleStorage": np.complex128, "UInt16Storage": np.uint16, "UInt32Storage": np.uint32,
                   "UInt64Storage": np.uint64}


class _StorageType:
    __slots__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = dtype


def _rebuild_tensor(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                    metadata=None):
    size, stride = tuple(size), tuple(stride)
    if not isinstance(storage, np.ndarray):
        raise _Corrupt("a tensor without a storage")
    if (len(size) != len(stride) or not all(isinstance(v, int) and v >= 0 for v in size + stride)
            or not isinstance(storage_offset, int) or storage_offset < 0):
        raise _Corrupt(f"invalid tensor geometry: offset {storage_offset}, size {size}, stride {stride}")
    if not size:
        if storage_offset >= storage.size:
            raise _Corrupt(f"scalar tensor at offset {storage_offset} is outside its storage ({storage.size})")
        arr = storage[storage_offset:storage_offset + 1].reshape(())
    else:
        need = storage_offset + 1 + sum((s - 1) * st for s, st in zip(size, stride)) if min(size) > 0 else 0
        if need > storage.size:
            raise _Corrupt(f"tensor of size {list(size)} and stride {list(stride)} exceeds its storage "
                           f"({storage.size} elements)")
        base = storage[storage_offset:]
        arr = np.lib.stride_tricks.as_strided(base, shape=size, strides=[st * storage.itemsize for st in stride])
    t = Tensor._make(np.array(arr, copy=True), False, None, 0)
    if requires_grad:
        t.requires_grad_()
    return t


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype, metadata=None):
    return _rebuild_tensor(storage, storage_offset, size, stride, requires_grad)


def _rebuild_parameter(data, requires_grad, backward_hooks, state=None):
    from .nn.parameter import Parameter
    return Parameter(data, requires_grad=requires_grad)


def _codecs_encode(s, encoding="utf-8"):
    if not isinstance(s, str) or encoding not in ("latin1", "latin-1", "utf-8", "utf8"):
        raise pickle.UnpicklingError("_codecs.encode is only allowed on strings (bytes in protocol-2 pickles)")
    return s.encode(encoding)


def _np_scalar(dtype, data):
    if not isinstance(dtype, np.dtype) or dtype.kind not in "biufc" or not isinstance(data, bytes):
        raise pickle.UnpicklingError("numpy scalars are only allowed for numeric dtypes")
    return np.frombuffer(data, dtype=dtype, count=1)[0]


def _np_dtype(obj, align=False, copy=False):
    if not isinstance(obj, str):
        raise pickle.UnpicklingError("numpy.dtype is only allowed with a type string")
    return np.dtype(obj)


_TORCH_OBJECTS = {
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("collections", "OrderedDict"): OrderedDict,
    ("torch", "Size"): Size,
    ("torch", "device"): _device,
    ("builtins", "set"): set, ("__builtin__", "set"): set,
    ("builtins", "frozenset"): frozenset, ("__builtin__", "frozenset"): frozenset,
    ("builtins", "slice"): slice, ("__builtin__", "slice"): slice,
    ("builtins", "complex"): complex, ("__builtin__", "complex"): complex,
    ("_codecs", "encode"): _codecs_encode,
    ("numpy.core.multiarray", "scalar"): _np_scalar, ("numpy._core.multiarray", "scalar"): _np_scalar,
    ("numpy", "dtype"): _np_dtype,
}
_TORCH_DTYPES = {"float32", "float", "float64", "double", "float16", "half", "bfloat16", "int64", "long", "int32",
                 "int", "int16", "short", "int8", "uint8", "bool", "complex64", "cfloat", "complex128", "cdouble"}


class _TorchUnpickler(pickle.Unpickler):
    """Admits only the globals a PyTorch checkpoint needs; storages come from the zip archive."""

    def __init__(self, fh, zf, prefix, byteorder):
        super().__init__(fh)
        self._zf, self._prefix, self._byteorder = zf, prefix, byteorder
        self._storages = {}

    def find_class(self, module, name):
        obj = _TORCH_OBJECTS.get((module, name))
        if obj is not None:
            return obj
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(_STORAGE_DTYPES[name])
        if module == "torch" and name in _TORCH_DTYPES:
            return _dtypes.to_dtype(name)
        raise pickle.UnpicklingError(f"ember.load refuses the global '{module}.{name}': only tensors, state dicts "
                                     "and plain Python containers can be loaded (no code runs on load)")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 3 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType)):
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r}")
        key = str(pid[2])
        if key not in self._storages:
            try:
                raw = self._zf.read(f"{self._prefix}data/{key}")
            except KeyError:
                raise _Corrupt(f"storage record data/{key} is missing") from None
            dt = pid[1].dtype
            if dt == "bf16":
                u = np.frombuffer(raw, dtype=np.dtype(np.uint16).newbyteorder(self._byteorder))
                arr = (u.astype(np.uint32) << 16).view(np.float32)
            else:
                dt = np.dtype(dt)
                if len(raw) % dt.itemsize:
                    raise _Corrupt(f"storage data/{key} has {len(raw)} bytes, not a multiple of {dt.itemsize}")
                arr = np.frombuffer(raw, dtype=dt.newbyteorder(self._byteorder) if dt.itemsize > 1 else dt)
                arr = arr.astype(dt, copy=False)
            self._storages[key] = arr
        return self._storages[key]


def _load_torch_zip(data: bytes):
    zf = zipfile.ZipFile(io.BytesIO(data))
    names = zf.namelist()
    pkl = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
    if not pkl:
        raise _Corrupt("zip archive without a data.pkl record (not a PyTorch checkpoint)")
    prefix = pkl[0][: -len("data.pkl")]
    byteorder = "<"
    if prefix + "byteorder" in names:
        byteorder = ">" if zf.read(prefix + "byteorder").strip() == b"big" else "<"
    up = _TorchUnpickler(io.BytesIO(zf.read(pkl[0])), zf, prefix, byteorder)
    return up.load()


def _read_all(f):
    if hasattr(f, "read"):
        data = f.read()
        name = getattr(f, "name", None) or f"<{type(f).__name__}>"
    else:
        name = os.fspath(f)
        with open(name, "rb") as fh:
            data = fh.read()
    if isinstance(data, str):
        raise TypeError("ember.load needs a binary file (open it with 'rb')")
    return bytes(data), str(name)


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Load an object saved by ``ember.save`` (safetensors) or by ``torch.save`` (zip format).

    Never executes code from the file: PyTorch pickles go through an allowlist of globals (whatever
    ``weights_only`` says). Everything is validated and built before returning, so a truncated or
    corrupt file raises ``RuntimeError`` naming it and nothing is half-loaded. ``map_location`` is
    accepted for compatibility (ember tensors live on the CPU).
    """
    data, name = _read_all(f)
    try:
        if data[:4] == b"PK\x03\x04":
            return _load_torch_zip(data)
        if len(data) >= 9 and data[8:9] == b"{":
            return _load_safetensors(data)
        if data[:2] == b"\x80\x02" or data[:1] == b"\x80":
            raise RuntimeError(f"ember.load: {name} is in PyTorch's legacy (pre-1.6, non-zip) format, which ember "
                               "does not read; re-save it with torch.save(obj, f) from a recent PyTorch")
        if not data:
            raise _Corrupt("the file is empty")
        raise _Corrupt("neither a safetensors file nor a PyTorch zip checkpoint")
    except pickle.UnpicklingError as e:
        if "ember.load refuses" in str(e) or "only allowed" in str(e):
            raise pickle.UnpicklingError(f"{e} [in {name}]") from None
        raise RuntimeError(f"ember.load: {name} is truncated or corrupt: {e}") from None
    except (_Corrupt, zipfile.BadZipFile, EOFError, ValueError, KeyError, IndexError, TypeError,
            AttributeError, struct.error, OSError, zlib.error) as e:
        raise RuntimeError(f"ember.load: {name} is truncated or corrupt: {e}") from None

