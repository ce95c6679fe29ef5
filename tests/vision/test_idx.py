"""IDX reader/writer and the shipped Fashion-MNIST sample."""

import gzip
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from ember.vision.datasets._idx import IDX_DTYPES, read_idx, write_idx

SAMPLE = Path(__file__).resolve().parents[2] / "src" / "ember" / "vision" / "datasets" / "_sample"
OFFICIAL = Path("/usr/share/datasets/fashion-mnist")
SPLITS = {"train": 580, "t10k": 100}  # items per class
BUDGET = 3_000_000


def _sample_dir() -> Path:
    """The installed package's sample when importable (it is what users get), else the source tree's."""
    import ember.vision.datasets._idx as m

    d = Path(m.__file__).resolve().parent / "_sample"
    return d if d.is_dir() else SAMPLE


# ---------------------------------------------------------------- round trips

ALL_DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


def _example(dtype, shape):
    rng = np.random.default_rng(0)
    dt = np.dtype(dtype)
    if dt.kind == "f":
        a = rng.standard_normal(shape).astype(dt) * 1e3
        flat = a.reshape(-1)
        if flat.size >= 4:
            flat[:4] = [np.inf, -np.inf, np.finfo(dt).max, np.finfo(dt).tiny]
        return a
    info = np.iinfo(dt)
    a = rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dt)
    flat = a.reshape(-1)
    if flat.size >= 2:
        flat[:2] = [info.min, info.max]
    return a


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("shape", [(7,), (3, 4, 5), (2, 1, 3, 2), (0, 28, 28), ()])
def test_round_trip(tmp_path, dtype, suffix, shape):
    a = _example(dtype, shape)
    p = tmp_path / f"x-idx{len(shape)}{suffix}"
    write_idx(p, a)
    b = read_idx(p)
    assert b.dtype == np.dtype(dtype) and b.dtype.isnative
    assert b.shape == a.shape
    np.testing.assert_array_equal(b, a)
    assert b.flags.writeable and b.flags.c_contiguous
    # only the target file exists: no temp file left behind
    assert sorted(os.listdir(tmp_path)) == [p.name]


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=lambda d: np.dtype(d).name)
def test_on_disk_layout_is_big_endian(tmp_path, dtype):
    a = _example(dtype, (2, 3))
    p = tmp_path / "raw.idx"
    write_idx(str(p), a)
    raw = p.read_bytes()
    code = {v: k for k, v in IDX_DTYPES.items()}[np.dtype(dtype)]
    assert raw[:4] == bytes([0, 0, code, 2])
    assert raw[4:12] == (2).to_bytes(4, "big") + (3).to_bytes(4, "big")
    assert raw[12:] == a.astype(np.dtype(dtype).newbyteorder(">")).tobytes()


def test_gz_written_only_for_gz_names_and_deterministic(tmp_path):
    a = np.arange(100, dtype=np.uint8).reshape(10, 10)
    write_idx(tmp_path / "a.gz", a)
    write_idx(tmp_path / "b.gz", a)
    write_idx(tmp_path / "a.idx", a)
    assert (tmp_path / "a.gz").read_bytes()[:2] == b"\x1f\x8b"
    assert (tmp_path / "a.gz").read_bytes() == (tmp_path / "b.gz").read_bytes()  # no name, mtime 0
    assert (tmp_path / "a.idx").read_bytes()[:4] == b"\x00\x00\x08\x02"
    assert gzip.decompress((tmp_path / "a.gz").read_bytes()) == (tmp_path / "a.idx").read_bytes()


def test_gzip_detected_by_content_not_name(tmp_path):
    a = np.arange(12, dtype=np.int16).reshape(3, 4)
    write_idx(tmp_path / "a.gz", a)
    os.rename(tmp_path / "a.gz", tmp_path / "a-no-suffix")
    np.testing.assert_array_equal(read_idx(tmp_path / "a-no-suffix"), a)


def test_non_native_and_non_contiguous_input(tmp_path):
    a = np.arange(24, dtype=">i4").reshape(4, 6)[:, ::2]
    write_idx(tmp_path / "a", a)
    b = read_idx(tmp_path / "a")
    assert b.dtype == np.int32
    np.testing.assert_array_equal(b, a)


@pytest.mark.parametrize("dtype", [np.bool_, np.int64, np.uint16, np.float16, np.complex64])
def test_write_rejects_unsupported_dtype(tmp_path, dtype):
    with pytest.raises(TypeError, match="cannot be stored in IDX"):
        write_idx(tmp_path / "a.gz", np.zeros(3, dtype=dtype))
    assert os.listdir(tmp_path) == []


def test_write_is_atomic_on_failure(tmp_path, monkeypatch):
    p = tmp_path / "keep.gz"
    old = np.arange(5, dtype=np.uint8)
    write_idx(p, old)
    before = p.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        write_idx(p, np.arange(9, dtype=np.uint8))
    assert p.read_bytes() == before  # old file untouched
    assert sorted(os.listdir(tmp_path)) == ["keep.gz"]  # temp file removed


def test_written_file_mode_follows_umask(tmp_path):
    old = os.umask(0o022)
    try:
        write_idx(tmp_path / "a.gz", np.zeros(2, np.uint8))
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "a.gz").st_mode) == 0o644


# ---------------------------------------------------------------- errors


def _check_error(path, *words):
    with pytest.raises(RuntimeError) as ei:
        read_idx(path)
    msg = str(ei.value)
    assert os.fspath(path) in msg, msg
    for w in words:
        assert w in msg, msg
    return msg


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_data(tmp_path, gz):
    full = tmp_path / "full"
    write_idx(full, np.arange(60, dtype=np.int32).reshape(3, 20))
    raw = full.read_bytes()[:-5]
    p = tmp_path / ("cut-idx2-int.gz" if gz else "cut-idx2-int")
    p.write_bytes(gzip.compress(raw) if gz else raw)
    _check_error(p, "truncated", "(3, 20)", "240")


def test_truncated_header(tmp_path):
    p = tmp_path / "hdr"
    p.write_bytes(bytes([0, 0, 8, 3]) + (10).to_bytes(4, "big"))  # 3 dims declared, 1 given
    _check_error(p, "truncated", "3 dimensions")
    p.write_bytes(b"\x00\x00")
    _check_error(p, "truncated")
    p.write_bytes(b"")
    _check_error(p, "truncated")


def test_trailing_bytes(tmp_path):
    p = tmp_path / "long"
    write_idx(p, np.zeros((2, 2), np.uint8))
    p.write_bytes(p.read_bytes() + b"\x00")
    _check_error(p, "longer than its header says")


def test_bad_magic(tmp_path):
    p = tmp_path / "magic-idx1-ubyte"
    p.write_bytes(b"\x01\x00\x08\x01" + (1).to_bytes(4, "big") + b"\x07")
    _check_error(p, "bad magic", "01000801")
    p.write_bytes(b"PK\x03\x04 not an idx file")
    _check_error(p, "bad magic")


def test_unknown_type_code(tmp_path):
    p = tmp_path / "code.gz"
    p.write_bytes(gzip.compress(b"\x00\x00\x0a\x01" + (1).to_bytes(4, "big") + b"\x07"))
    _check_error(p, "bad magic", "0x0A")


def test_corrupt_gzip(tmp_path):
    good = tmp_path / "good.gz"
    write_idx(good, np.arange(1000, dtype=np.float64))
    raw = good.read_bytes()
    # damaged deflate stream
    bad = tmp_path / "bad-idx1.gz"
    bad.write_bytes(raw[:20] + bytes(b ^ 0xFF for b in raw[20:60]) + raw[60:])
    _check_error(bad, "corrupt gzip")
    # gzip stream cut short
    cut = tmp_path / "cut-idx1.gz"
    cut.write_bytes(raw[: len(raw) // 2])
    _check_error(cut, "corrupt gzip")
    # wrong CRC
    crc = tmp_path / "crc-idx1.gz"
    crc.write_bytes(raw[:-8] + bytes(b ^ 0x55 for b in raw[-8:-4]) + raw[-4:])
    _check_error(crc, "corrupt gzip")


def test_missing_file(tmp_path):
    _check_error(tmp_path / "nope.gz", "cannot read")


# ---------------------------------------------------------------- the shipped sample


def _load_sample(split):
    d = _sample_dir()
    images = read_idx(d / f"{split}-images-idx3-ubyte.gz")
    labels = read_idx(d / f"{split}-labels-idx1-ubyte.gz")
    index = read_idx(d / f"{split}-source-indices-idx1-int.gz")
    return images, labels, index


@pytest.mark.parametrize("split", SPLITS)
def test_sample_shapes_and_balance(split):
    per_class = SPLITS[split]
    images, labels, index = _load_sample(split)
    n = 10 * per_class
    assert images.shape == (n, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (n,) and labels.dtype == np.uint8
    assert index.shape == (n,) and index.dtype == np.int32
    assert np.bincount(labels, minlength=10).tolist() == [per_class] * 10
    assert np.all(np.diff(index) > 0)  # official order, no duplicates
    assert index.min() >= 0 and index.max() < (60000 if split == "train" else 10000)
    assert images.max() == 255 and images.min() == 0
    assert len(np.unique(images.reshape(n, -1), axis=0)) > 0.99 * n  # real, varied images


def test_sample_files_and_size():
    d = _sample_dir()
    names = sorted(os.listdir(d))
    for name in ["LICENSE.txt", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]:
        assert name in names
    assert sum(os.path.getsize(d / n) for n in names if (d / n).is_file()) <= BUDGET
    lic = (d / "LICENSE.txt").read_text()
    assert "Copyright (c) 2017 Zalando SE" in lic and "Permission is hereby granted" in lic


@pytest.mark.skipif(not OFFICIAL.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
@pytest.mark.parametrize("split", SPLITS)
def test_sample_matches_official(split):
    images, labels, index = _load_sample(split)
    off_images = read_idx(OFFICIAL / f"{split}-images-idx3-ubyte.gz")
    off_labels = read_idx(OFFICIAL / f"{split}-labels-idx1-ubyte.gz")
    # every item identical to the official one at its recorded source index
    np.testing.assert_array_equal(images, off_images[index])
    np.testing.assert_array_equal(labels, off_labels[index])
    # and the selection is the documented one: the first `per_class` of each class, in file order
    expect = np.sort(np.concatenate([np.flatnonzero(off_labels == c)[: SPLITS[split]] for c in range(10)]))
    np.testing.assert_array_equal(index, expect)
