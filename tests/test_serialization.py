"""ember.save / ember.load: safetensors checkpoints, PyTorch zip checkpoints, atomicity, safety."""
import io
import json
import math
import os
import pickle
import struct
import zipfile
from collections import OrderedDict

import numpy as np
import pytest

import ember
from conftest import requires_torch, torch


def _same(a, b):
    """Structural equality with tensors compared by dtype, shape, values and requires_grad."""
    if isinstance(a, ember.Tensor):
        assert isinstance(b, ember.Tensor) and type(a) is type(b)
        assert a.dtype == b.dtype and a.shape == b.shape and a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
        return
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


def _checkpoint():
    w = ember.randn(4, 3)
    return {
        "epoch": 7,
        "model": OrderedDict([("fc.weight", ember.nn.Parameter(ember.randn(3, 4))), ("fc.bias", ember.zeros(3)),
                              ("bn.num_batches_tracked", ember.tensor(5)), ("mask", ember.tensor([True, False])),
                              ("half", ember.ones(2, dtype=ember.float16)), ("f64", ember.randn(2, 2).double()),
                              ("empty", ember.zeros(0, 3)), ("tied", w), ("tied_again", w),
                              ("view", ember.arange(12.).reshape(3, 4).t())]),
        "optimizer": {"state": {0: {"step": 3, "exp_avg": ember.randn(3, 4)}, 1: {"momentum_buffer": None}},
                      "param_groups": [{"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0,
                                        "amsgrad": False, "params": [0, 1], "name": "all"}]},
        "best": float("inf"), "nan": float("nan"), "note": "résumé ✓", "none": None, "ratio": 2.5,
        "shape": ember.Size([2, 3]), "dtype": ember.float32, "tags": {"a", "b"}, "raw": b"\x00\xff",
        "requires": ember.ones(2).requires_grad_(), "np": np.arange(3), "npscalar": np.float64(0.5),
        "key_types": {1: "int", (1, 2): "tuple", 2.5: "float", None: "none"},
    }


def _expected(obj):
    """What loading gives back: NumPy scalars become Python numbers."""
    obj = dict(obj)
    obj["npscalar"] = 0.5
    return obj


def test_roundtrip_checkpoint_path(tmp_path):
    ck = _checkpoint()
    p = tmp_path / "ck.pt"
    ember.save(ck, p)
    back = ember.load(p)
    np.testing.assert_array_equal(back.pop("np"), ck["np"])
    exp = _expected(ck)
    exp.pop("np")
    _same(exp, back)
    assert back["model"]["tied"] is back["model"]["tied_again"]
    assert isinstance(back["model"]["fc.weight"], ember.nn.Parameter)
    assert not os.listdir(tmp_path) == [] and os.listdir(tmp_path) == ["ck.pt"]  # no temp file left


def test_roundtrip_file_objects_and_plain_tensor():
    bio = io.BytesIO()
    t = ember.randn(3, 5)
    ember.save(t, bio)
    bio.seek(0)
    _same(ember.load(bio), t)
    bio = io.BytesIO()
    ember.save([1, (2, "x"), {"k": ember.arange(4)}], bio)
    _same(ember.load(io.BytesIO(bio.getvalue())), [1, (2, "x"), {"k": ember.arange(4)}])


def test_module_state_dict_roundtrip(tmp_path):
    m = ember.nn.Sequential(ember.nn.Linear(4, 3), ember.nn.ReLU(), ember.nn.Linear(3, 2))
    ember.save(m.state_dict(), tmp_path / "m.pt")
    m2 = ember.nn.Sequential(ember.nn.Linear(4, 3), ember.nn.ReLU(), ember.nn.Linear(3, 2))
    m2.load_state_dict(ember.load(tmp_path / "m.pt"))
    x = ember.randn(5, 4)
    np.testing.assert_array_equal(m(x).detach().numpy(), m2(x).detach().numpy())


def test_file_is_safetensors(tmp_path):
    sd = OrderedDict([("a.weight", ember.randn(2, 3)), ("a.bias", ember.zeros(3))])
    ember.save(sd, tmp_path / "s.safetensors")
    data = (tmp_path / "s.safetensors").read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    assert header["a.weight"] == {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}
    assert "ember" in header["__metadata__"]
    from safetensors.numpy import load_file
    arrays = load_file(str(tmp_path / "s.safetensors"))
    np.testing.assert_array_equal(arrays["a.weight"], sd["a.weight"].numpy())


@requires_torch
def test_ember_checkpoint_loads_in_torch(tmp_path):
    from safetensors.torch import load_file
    m = ember.nn.Linear(4, 3)
    sd = m.state_dict()
    sd["steps"] = ember.tensor(12)
    ember.save(sd, tmp_path / "m.safetensors")
    tt = load_file(str(tmp_path / "m.safetensors"))
    tm = torch.nn.Linear(4, 3)
    tm.load_state_dict({k: v for k, v in tt.items() if k != "steps"})
    assert tt["steps"].dtype == torch.int64 and tt["steps"].item() == 12
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    np.testing.assert_allclose(tm(torch.from_numpy(x)).detach().numpy(), m(ember.from_numpy(x)).detach().numpy(),
                               rtol=1e-6)


@requires_torch
def test_torch_save_loads_in_ember(tmp_path):
    tm = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.Flatten(),
                             torch.nn.Linear(2 * 4 * 4, 3))
    opt = torch.optim.Adam(tm.parameters(), lr=1e-3)
    tm(torch.randn(2, 1, 6, 6)).sum().backward()
    opt.step()
    base = torch.arange(12.)
    ck = {"epoch": 3, "model": tm.state_dict(), "optim": opt.state_dict(), "name": "run", "loss": 0.25,
          "view": base.view(3, 4).t(), "slice": base[2:5], "bf16": torch.tensor([1.5, -2.], dtype=torch.bfloat16),
          "f16": torch.tensor([0.5], dtype=torch.float16), "bool": torch.tensor([True]), "i8": torch.tensor([-3],
          dtype=torch.int8), "param": torch.nn.Parameter(torch.ones(2)), "scalar": torch.tensor(2.5),
          "set": {1, 2}, "bytes": b"ab", "dt": torch.float16, "size": torch.Size([1, 2]), "tuple": (1, 2.0)}
    torch.save(ck, tmp_path / "ck.pt")
    back = ember.load(tmp_path / "ck.pt", map_location="cpu", weights_only=True)
    assert list(back["model"]) == list(tm.state_dict())
    assert isinstance(back["model"], OrderedDict)
    for k, v in tm.state_dict().items():
        e = back["model"][k]
        assert e.dtype.name == str(v.dtype).replace("torch.", "") and tuple(e.shape) == tuple(v.shape), k
        np.testing.assert_array_equal(e.numpy(), v.numpy())
    st = opt.state_dict()
    assert back["optim"]["param_groups"][0]["lr"] == st["param_groups"][0]["lr"]
    assert back["optim"]["param_groups"][0]["params"] == st["param_groups"][0]["params"]
    assert back["optim"]["param_groups"][0]["betas"] == (0.9, 0.999)
    np.testing.assert_array_equal(back["optim"]["state"][0]["exp_avg"].numpy(), st["state"][0]["exp_avg"].numpy())
    assert back["epoch"] == 3 and back["name"] == "run" and back["loss"] == 0.25
    np.testing.assert_array_equal(back["view"].numpy(), ck["view"].numpy())
    np.testing.assert_array_equal(back["slice"].numpy(), [2., 3., 4.])
    np.testing.assert_array_equal(back["bf16"].numpy(), [1.5, -2.])
    assert back["f16"].dtype == ember.float16 and back["bool"].dtype == ember.bool
    assert back["i8"].tolist() == [-3] and back["scalar"].item() == 2.5 and back["scalar"].shape == ()
    assert isinstance(back["param"], ember.nn.Parameter) and back["param"].requires_grad
    assert back["set"] == {1, 2} and back["bytes"] == b"ab" and back["dt"] is ember.float16
    assert tuple(back["size"]) == (1, 2) and back["tuple"] == (1, 2.0)
    # the state dict loads into the equivalent ember model
    em = ember.nn.Sequential(ember.nn.Conv2d(1, 2, 3), ember.nn.BatchNorm2d(2), ember.nn.Flatten(),
                             ember.nn.Linear(2 * 4 * 4, 3))
    em.load_state_dict(back["model"])
    x = np.random.default_rng(0).standard_normal((2, 1, 6, 6)).astype(np.float32)
    tm.eval()
    em.eval()
    np.testing.assert_allclose(em(ember.from_numpy(x)).detach().numpy(),
                               tm(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch /tmp/ember_pwned_by_pickle",))


@requires_torch
def test_malicious_torch_pickle_refused(tmp_path):
    if os.path.exists("/tmp/ember_pwned_by_pickle"):
        os.unlink("/tmp/ember_pwned_by_pickle")
    torch.save({"w": torch.ones(2), "x": _Evil()}, tmp_path / "evil.pt")
    with pytest.raises(pickle.UnpicklingError, match=r"posix\.system|os\.system"):
        ember.load(tmp_path / "evil.pt")
    assert not os.path.exists("/tmp/ember_pwned_by_pickle")


def test_malicious_pickle_handmade(tmp_path):
    # a zip laid out like torch's, whose data.pkl calls builtins.eval
    payload = pickle.dumps({"a": 1}, protocol=2)
    evil = b"\x80\x02cbuiltins\neval\nX\x08\x00\x00\x001 + 1 ==\x85R."
    assert payload  # sanity: the real format is a protocol-2 pickle
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w") as z:
        z.writestr("archive/data.pkl", evil)
        z.writestr("archive/byteorder", "little")
    with pytest.raises(pickle.UnpicklingError, match=r"builtins\.eval"):
        ember.load(io.BytesIO(bio.getvalue()))


def test_atomic_write_keeps_previous_file(tmp_path, monkeypatch):
    p = tmp_path / "ck.pt"
    ember.save({"v": ember.ones(3)}, p)
    before = p.read_bytes()
    # unsaveable object: fails before anything is written
    with pytest.raises(TypeError, match="cannot save an object of type"):
        ember.save({"v": ember.zeros(3), "m": object()}, p)
    assert p.read_bytes() == before
    # failure in the middle of writing the data
    import ember.serialization as S
    real = S._write

    def broken(fh, header, tensors):
        fh.write(header[:10])
        raise OSError("disk full")
    monkeypatch.setattr(S, "_write", broken)
    with pytest.raises(OSError, match="disk full"):
        ember.save({"v": ember.zeros(3)}, p)
    monkeypatch.setattr(S, "_write", real)
    assert p.read_bytes() == before
    assert os.listdir(tmp_path) == ["ck.pt"]
    _same(ember.load(p), {"v": ember.ones(3)})


@pytest.mark.parametrize("cut", [0, 5, 12, -1, -7])
def test_truncated_safetensors_raises(tmp_path, cut):
    p = tmp_path / "ck.pt"
    ember.save({"a": ember.randn(4, 4), "b": [1, 2]}, p)
    data = p.read_bytes()
    p.write_bytes(data[:cut])
    with pytest.raises(RuntimeError, match="ck.pt"):
        ember.load(p)


@requires_torch
def test_truncated_or_corrupt_torch_zip_raises(tmp_path):
    p = tmp_path / "t.pt"
    torch.save({"a": torch.randn(8, 8)}, p)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(RuntimeError, match="t.pt"):
        ember.load(p)
    p.write_bytes(b"garbage that is no checkpoint")
    with pytest.raises(RuntimeError, match="t.pt"):
        ember.load(p)


@requires_torch
def test_legacy_torch_format_clear_error(tmp_path):
    p = tmp_path / "old.pt"
    torch.save({"a": torch.ones(2)}, p, _use_new_zipfile_serialization=False)
    with pytest.raises(RuntimeError, match="legacy"):
        ember.load(p)


def test_plain_safetensors_file_loads(tmp_path):
    from safetensors.numpy import save_file
    save_file({"x": np.arange(6, dtype=np.float32).reshape(2, 3), "y": np.array([1, 2], np.int64)},
              str(tmp_path / "p.safetensors"))
    d = ember.load(tmp_path / "p.safetensors")
    assert d["x"].shape == (2, 3) and d["y"].dtype == ember.int64


@requires_torch
def test_corrupt_storage_bytes_and_bad_geometry(tmp_path):
    p = tmp_path / "c.pt"
    torch.save({"a": torch.arange(64.)}, p)
    data = bytearray(p.read_bytes())
    i = data.find(np.arange(64.).astype(np.float32).tobytes()[16:32])
    assert i > 0
    data[i] ^= 0xFF  # zip CRC check catches it
    p.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match="c.pt"):
        ember.load(p)
    # a pickle asking for a view outside its storage (or negative strides) is refused, not read
    from ember.serialization import _Corrupt, _rebuild_tensor
    st = np.arange(4, dtype=np.float32)
    with pytest.raises(_Corrupt):
        _rebuild_tensor(st, 0, (3, 3), (3, 1))
    with pytest.raises(_Corrupt):
        _rebuild_tensor(st, 3, (2,), (-1,))
    assert _rebuild_tensor(st, 1, (2, 2), (0, 1)).tolist() == [[1., 2.], [1., 2.]]


def test_save_errors_and_file_mode(tmp_path):
    with pytest.raises(RuntimeError, match="Parent directory .* does not exist."):
        ember.save({}, tmp_path / "missing" / "x.pt")
    p = tmp_path / "m.pt"
    ember.save({"a": 1}, p)
    mask = os.umask(0)
    os.umask(mask)
    assert (p.stat().st_mode & 0o777) == (0o666 & ~mask)
    os.chmod(p, 0o640)
    ember.save({"a": 2}, p)
    assert (p.stat().st_mode & 0o777) == 0o640 and ember.load(p) == {"a": 2}


@requires_torch
def test_torch_zip_big_endian_byteorder(tmp_path):
    bio = io.BytesIO()
    torch.save({"w": torch.arange(6.).reshape(2, 3), "i": torch.tensor([1, -2])}, bio)
    src = zipfile.ZipFile(io.BytesIO(bio.getvalue()))
    # rewrite the archive as a big-endian machine would have written it
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for n in src.namelist():
            data = src.read(n)
            if n.endswith("byteorder"):
                data = b"big"
            elif "/data/" in n:
                dt = np.float32 if len(data) == 24 else np.int64
                data = np.frombuffer(data, dt).astype(np.dtype(dt).newbyteorder(">")).tobytes()
            z.writestr(n, data)
    back = ember.load(io.BytesIO(out.getvalue()))
    assert back["w"].tolist() == [[0., 1., 2.], [3., 4., 5.]] and back["i"].tolist() == [1, -2]
