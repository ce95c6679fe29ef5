"""MNIST and Fashion-MNIST from the standard IDX(.gz) files (``torchvision.datasets.MNIST``).

``dataset[i]`` is ``(image, target)`` with the image a uint8 ``(28, 28)`` ember tensor -- not a PIL
Image as in torchvision -- which ``transforms.ToTensor()`` turns into a float ``(1, 28, 28)`` tensor in
[0, 1]; ``target`` is an int.

Where the files are looked for, in order: ``root/<ClassName>/raw/``, ``root/`` itself, then the
system location of the Debian package (``/usr/share/datasets/fashion-mnist`` for Fashion-MNIST).
``download=True`` fetches them from the canonical address (checksums verified) when none is found.
``root="sample"`` (or ``sample=True``) loads the small Fashion-MNIST sample shipped with ember.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from typing import Callable

import numpy as np

from ..._tensor import Tensor
from ._idx import read_idx
from .vision import VisionDataset

__all__ = ["MNIST", "FashionMNIST", "SAMPLE_DIR"]

SAMPLE_DIR = os.path.join(os.path.dirname(__file__), "_sample")


class MNIST(VisionDataset):
    """The MNIST digits: 60,000 train and 10,000 test 28x28 grey images."""

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]
    system_dirs: list[str] = []
    apt_package: str | None = None
    apt_dir: str | None = None
    has_sample = False

    def __init__(self, root="data", train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False, sample: bool = False):
        sample = sample or (isinstance(root, str) and root == "sample")
        if sample and not self.has_sample:
            raise RuntimeError(f"{type(self).__name__}: ember ships a sample of Fashion-MNIST only; "
                               f"use FashionMNIST(sample=True)")
        super().__init__(SAMPLE_DIR if sample else root, transform=transform, target_transform=target_transform)
        self.train = train
        self.is_sample = sample
        prefix = "train" if train else "t10k"
        self._names = (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte")
        folder = SAMPLE_DIR if sample else self._find()
        if folder is None and download:
            self.download()
            folder = self._find()
        if folder is None:
            raise RuntimeError(f"Dataset not found: {type(self).__name__} files {self._names[0]}[.gz] and "
                               f"{self._names[1]}[.gz] are in none of {self._search_dirs()}.\n{self._how_to_get()}")
        self.source_folder = folder
        images = self._read(folder, self._names[0])
        labels = self._read(folder, self._names[1])
        if images.ndim != 3 or images.dtype != np.uint8:
            raise RuntimeError(f"{self._path(folder, self._names[0])}: expected uint8 images (N, H, W), got "
                               f"{images.dtype} {images.shape}.\n{self._how_to_get()}")
        if labels.ndim != 1 or len(labels) != len(images):
            raise RuntimeError(f"{self._path(folder, self._names[1])}: expected {len(images)} labels to match "
                               f"the images, got shape {labels.shape}.\n{self._how_to_get()}")
        self.data = Tensor._make(images, False, None, 0)
        self.targets = Tensor._make(labels.astype(np.int64), False, None, 0)

    # ---- locating and reading the files ----
    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, self.__class__.__name__, "raw")

    @property
    def processed_folder(self) -> str:
        return os.path.join(self.root, self.__class__.__name__, "processed")

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.classes)}

    @property
    def train_labels(self):
        return self.targets

    @property
    def test_labels(self):
        return self.targets

    @property
    def train_data(self):
        return self.data

    @property
    def test_data(self):
        return self.data

    def _search_dirs(self) -> list[str]:
        return [self.raw_folder, self.root] + list(self.system_dirs)

    @staticmethod
    def _path(folder: str, name: str) -> str | None:
        for candidate in (name + ".gz", name):
            p = os.path.join(folder, candidate)
            if os.path.isfile(p):
                return p
        return None

    def _find(self) -> str | None:
        """The first directory holding the split's images or labels; both must be there."""
        for folder in self._search_dirs():
            present = [self._path(folder, n) for n in self._names]
            if all(present):
                return folder
            if any(present):
                missing = self._names[present.index(None)]
                raise RuntimeError(f"{type(self).__name__}: {os.path.join(folder, missing)}[.gz] is missing "
                                   f"(its companion {present[0] or present[1]} is there).\n{self._how_to_get()}")
        return None

    def _read(self, folder: str, name: str) -> np.ndarray:
        path = self._path(folder, name)
        try:
            return read_idx(path)
        except RuntimeError as e:
            raise RuntimeError(f"{e}\n{self._how_to_get()}") from None

    def _how_to_get(self) -> str:
        files = ", ".join(f for f, _ in self.resources)
        lines = ["To get the files:"]
        if self.apt_package:
            lines.append(f"  - on Debian/Ubuntu: sudo apt-get install {self.apt_package} "
                         f"(installs them in {self.apt_dir}), or")
        lines.append(f"  - download {files} from {self.mirrors[0]} and place them under "
                     f"{self.raw_folder} (or directly under {self.root}), or")
        lines.append(f"  - pass download=True to {type(self).__name__}(...) on a machine with network access.")
        if self.has_sample:
            lines.append(f"  - for a quick try, {type(self).__name__}(sample=True) loads the small sample shipped "
                         f"with ember.")
        return "\n".join(lines)

    # ---- download ----
    def _check_exists(self) -> bool:
        return all(self._path(self.raw_folder, f[:-3]) for f, _ in self.resources)

    def download(self) -> None:
        """Fetch the four files into ``raw_folder``, verifying each file's MD5."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        for filename, md5 in self.resources:
            target = os.path.join(self.raw_folder, filename)
            errors = []
            for mirror in self.mirrors:
                try:
                    _download(mirror + filename, target, md5)
                    break
                except (urllib.error.URLError, OSError, ValueError) as e:
                    errors.append(f"{mirror + filename}: {e}")
            else:
                raise RuntimeError(f"{type(self).__name__}: could not download {filename} (no network?):\n  "
                                   + "\n  ".join(errors) + f"\n{self._how_to_get()}")

    def extra_repr(self) -> str:
        split = "Train" if self.train else "Test"
        return f"Split: {split}" + (" (ember's shipped sample)" if self.is_sample else "")

    # ---- samples ----
    def __getitem__(self, index: int):
        img, target = self.data[index], int(self.targets[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self) -> int:
        return len(self.data)


def _download(url: str, target: str, md5: str) -> None:
    """Download ``url`` to ``target`` atomically, refusing content whose MD5 is not ``md5``."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), suffix=".part")
    try:
        digest = hashlib.md5()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=30) as resp:
            while chunk := resp.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != md5:
            raise ValueError(f"checksum mismatch: MD5 {digest.hexdigest()}, expected {md5}")
        shutil.move(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 60,000 train and 10,000 test 28x28 grey images of 10 clothing classes."""

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
               "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
    system_dirs = ["/usr/share/datasets/fashion-mnist"]
    apt_package = "dataset-fashion-mnist"
    apt_dir = "/usr/share/datasets/fashion-mnist"
    has_sample = True

