"""ember.vision.datasets: the shipped sample, file lookup and its errors, FakeData, ImageFolder, CIFAR."""
import os
import pickle
import urllib.error

import numpy as np
import pytest

import ember
from ember.utils.data import DataLoader
from ember.vision import datasets, transforms
from ember.vision.datasets._idx import read_idx, write_idx
from ember.vision.datasets.mnist import SAMPLE_DIR

SYSTEM_DIR = "/usr/share/datasets/fashion-mnist"


@pytest.mark.parametrize("train,n", [(True, 5800), (False, 1000)])
def test_shipped_sample(train, n):
    ds = datasets.FashionMNIST(sample=True, train=train)
    assert len(ds) == n and ds.is_sample
    assert tuple(ds.data.shape) == (n, 28, 28) and ds.data.dtype == ember.uint8
    assert tuple(ds.targets.shape) == (n,) and ds.targets.dtype == ember.int64
    assert np.bincount(ds.targets._data).tolist() == [n // 10] * 10  # class-balanced
    assert ds.classes[0] == "T-shirt/top" and ds.class_to_idx["Ankle boot"] == 9
    prefix = "train" if train else "t10k"
    np.testing.assert_array_equal(ds.data._data, read_idx(os.path.join(SAMPLE_DIR, f"{prefix}-images-idx3-ubyte.gz")))
    img, target = ds[3]
    assert isinstance(img, ember.Tensor) and tuple(img.shape) == (28, 28) and img.dtype == ember.uint8
    assert isinstance(target, int) and target == int(ds.targets[3])
    same = datasets.FashionMNIST("sample", train=train)
    assert len(same) == n


def test_sample_with_transforms_and_loader():
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.25,))])
    ds = datasets.FashionMNIST(sample=True, train=False, transform=tf, target_transform=lambda t: t + 100)
    x, y = ds[0]
    assert tuple(x.shape) == (1, 28, 28) and x.dtype == ember.float32
    ref = (ds.data._data[0].astype(np.float32) / np.float32(255) - np.float32(0.5)) / np.float32(0.25)
    np.testing.assert_array_equal(x._data[0], ref)
    assert y == int(ds.targets[0]) + 100
    sub = ember.utils.data.Subset(ds, range(40))
    a = [(b[0]._data, b[1]._data) for b in DataLoader(sub, batch_size=16)]
    b = [(b[0]._data, b[1]._data) for b in DataLoader(sub, batch_size=16, num_workers=2)]
    assert [x.shape for x, _ in a] == [(16, 1, 28, 28), (16, 1, 28, 28), (8, 1, 28, 28)]
    for (x1, y1), (x2, y2) in zip(a, b):
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)


def _write_split(folder, n=5, gz=True, train=True, seed=0):
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    prefix = "train" if train else "t10k"
    ext = ".gz" if gz else ""
    imgs = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    write_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte{ext}"), imgs)
    write_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte{ext}"), labels)
    return imgs, labels


@pytest.fixture
def no_system_dir(monkeypatch):
    monkeypatch.setattr(datasets.FashionMNIST, "system_dirs", [])


@pytest.mark.parametrize("layout", ["raw", "root"])
@pytest.mark.parametrize("gz", [True, False])
def test_files_found_under_root(tmp_path, layout, gz, no_system_dir):
    folder = tmp_path / "FashionMNIST" / "raw" if layout == "raw" else tmp_path
    imgs, labels = _write_split(str(folder), gz=gz, train=False)
    ds = datasets.FashionMNIST(str(tmp_path), train=False)
    np.testing.assert_array_equal(ds.data._data, imgs)
    np.testing.assert_array_equal(ds.targets._data, labels.astype(np.int64))
    assert ds.source_folder == str(folder)
    m = datasets.MNIST(str(tmp_path), train=False) if layout == "root" else None
    if m is not None:
        assert len(m) == 5


def test_missing_files_say_how_to_get_them(tmp_path, no_system_dir):
    with pytest.raises(RuntimeError) as e:
        datasets.FashionMNIST(str(tmp_path))
    msg = str(e.value)
    assert "train-images-idx3-ubyte" in msg and "apt-get install dataset-fashion-mnist" in msg
    assert str(tmp_path / "FashionMNIST" / "raw") in msg and "sample=True" in msg


def test_missing_companion_and_corrupt_file_name_the_file(tmp_path, no_system_dir):
    _write_split(str(tmp_path))
    os.remove(tmp_path / "train-labels-idx1-ubyte.gz")
    with pytest.raises(RuntimeError, match="train-labels-idx1-ubyte.*missing"):
        datasets.FashionMNIST(str(tmp_path))
    _write_split(str(tmp_path))
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(RuntimeError) as e:
        datasets.FashionMNIST(str(tmp_path))
    assert str(path) in str(e.value) and "apt-get install dataset-fashion-mnist" in str(e.value)
    _write_split(str(tmp_path), n=4)
    write_idx(str(tmp_path / "train-labels-idx1-ubyte.gz"), np.zeros(3, np.uint8))
    with pytest.raises(RuntimeError, match="expected 4 labels"):
        datasets.FashionMNIST(str(tmp_path))


def test_download_without_network_fails_with_instructions(tmp_path, monkeypatch, no_system_dir):
    def offline(*a, **k):
        raise urllib.error.URLError("no network")
    monkeypatch.setattr("urllib.request.urlopen", offline)
    with pytest.raises(RuntimeError) as e:
        datasets.FashionMNIST(str(tmp_path), download=True)
    msg = str(e.value)
    assert "could not download train-images-idx3-ubyte.gz" in msg and "apt-get install dataset-fashion-mnist" in msg
    assert not any(p.suffix == ".part" for p in (tmp_path / "FashionMNIST" / "raw").iterdir())


def test_download_verifies_checksum(tmp_path, monkeypatch, no_system_dir):
    class Resp:
        def __init__(self):
            self.done = False

        def read(self, n):
            if self.done:
                return b""
            self.done = True
            return b"not the real file"

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False
    monkeypatch.setattr("urllib.request.urlopen", lambda *a, **k: Resp())
    with pytest.raises(RuntimeError, match="checksum mismatch"):
        datasets.FashionMNIST(str(tmp_path), download=True)


@pytest.mark.skipif(not os.path.isdir(SYSTEM_DIR), reason="Debian's dataset-fashion-mnist is not installed")
def test_system_fashion_mnist_and_sample_provenance(tmp_path):
    ds = datasets.FashionMNIST(str(tmp_path), train=False)
    assert ds.source_folder == SYSTEM_DIR and len(ds) == 10000
    sample = datasets.FashionMNIST(sample=True, train=False)
    idx = read_idx(os.path.join(SAMPLE_DIR, "t10k-source-indices-idx1-int.gz"))
    np.testing.assert_array_equal(sample.data._data, ds.data._data[idx])


def test_mnist_has_no_sample():
    with pytest.raises(RuntimeError, match="sample"):
        datasets.MNIST(sample=True)


def test_fakedata_is_deterministic_per_index():
    ds = datasets.FakeData(size=5, image_size=(1, 8, 8), num_classes=3)
    ember.manual_seed(1)
    before = ember.rand(1).item()
    a, ta = ds[2]
    ember.manual_seed(1)
    b, tb = ds[2]
    assert ember.rand(1).item() == before  # the global stream is not touched
    assert tuple(a.shape) == (1, 8, 8) and ta == tb and 0 <= ta < 3
    np.testing.assert_array_equal(a._data, b._data)
    assert len(ds) == 5
    with pytest.raises(IndexError):
        ds[5]


def test_image_folder(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(0)
    expect = {}
    for cls in ("dog", "cat"):
        os.makedirs(tmp_path / cls)
        for k in range(2):
            a = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
            p = tmp_path / cls / f"{k}.png"
            Image.fromarray(a).save(p)
            expect[str(p)] = a
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    ds = datasets.ImageFolder(str(tmp_path), transform=transforms.ToTensor())
    assert ds.classes == ["cat", "dog"] and ds.class_to_idx == {"cat": 0, "dog": 1}
    assert [t for _, t in ds.samples] == [0, 0, 1, 1] and len(ds) == 4
    x, t = ds[2]
    np.testing.assert_array_equal(x._data, expect[ds.samples[2][0]].transpose(2, 0, 1) / np.float32(255))


def test_image_folder_without_pillow_says_how_to_fix(tmp_path, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_pil(name, *args, **kwargs):
        if name == "PIL" or name.startswith("PIL."):
            raise ImportError("no Pillow")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_pil)
    os.makedirs(tmp_path / "a")
    (tmp_path / "a" / "x.png").write_bytes(b"")
    with pytest.raises(ImportError, match="pip install pillow"):
        datasets.ImageFolder(str(tmp_path))
    # a loader of one's own needs no Pillow
    ds = datasets.ImageFolder(str(tmp_path), loader=lambda p: np.zeros((2, 2), np.uint8))
    assert ds[0][0].shape == (2, 2) and ds[0][1] == 0


def test_cifar10_from_python_batches(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"]:
        with open(folder / name, "wb") as f:
            pickle.dump({b"data": rng.integers(0, 256, (4, 3072), dtype=np.uint8), b"labels": [1, 2, 3, 4]}, f)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({b"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                                      "ship", "truck"]}, f)
    ds = datasets.CIFAR10(str(tmp_path), train=True)
    assert len(ds) == 20 and ds.data.shape == (20, 32, 32, 3) and ds.classes[9] == "truck"
    img, t = ds[0]
    assert img.shape == (32, 32, 3) and t == 1
    x = transforms.ToTensor()(img)
    assert tuple(x.shape) == (3, 32, 32)
    assert len(datasets.CIFAR10(str(tmp_path), train=False)) == 4
    with pytest.raises(RuntimeError, match="cifar-10-python.tar.gz"):
        datasets.CIFAR10(str(tmp_path / "none"))
