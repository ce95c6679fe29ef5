"""CIFAR-10/100 from the "python version" pickled batches (``torchvision.datasets.CIFAR10``), no download."""
from __future__ import annotations

import os
import pickle
from typing import Callable

import numpy as np

from .vision import VisionDataset

__all__ = ["CIFAR10", "CIFAR100"]


class CIFAR10(VisionDataset):
    """``dataset[i]`` is ``(image, target)``: a uint8 ``(32, 32, 3)`` NumPy array (torchvision gives a PIL
    Image; ``ToTensor()`` accepts both) and an int. ``.data`` is the (N, 32, 32, 3) uint8 array."""

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    train_list = ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5"]
    test_list = ["test_batch"]
    meta = {"filename": "batches.meta", "key": "label_names"}
    label_key = "labels"

    def __init__(self, root="data", train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        folder = self._find()
        if folder is None:
            extra = " (ember does not download CIFAR)" if download else ""
            raise RuntimeError(f"Dataset not found{extra}: {type(self).__name__} needs the '{self.base_folder}' "
                               f"folder of {self.url}, extracted under {self.root} "
                               f"(tar xzf {os.path.basename(self.url)} -C {self.root}).")
        data, targets = [], []
        for name in self.train_list if train else self.test_list:
            entry = self._load(os.path.join(folder, name))
            data.append(np.asarray(entry["data"], dtype=np.uint8))
            targets.extend(entry[self.label_key] if self.label_key in entry else entry["fine_labels"])
        self.data = np.vstack(data).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy()
        self.targets = [int(t) for t in targets]
        meta = self._load(os.path.join(folder, self.meta["filename"]))
        self.classes = list(meta[self.meta["key"]])
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}

    def _find(self) -> str | None:
        needed = self.train_list + self.test_list + [self.meta["filename"]]
        for folder in (os.path.join(self.root, self.base_folder), self.root):
            if all(os.path.isfile(os.path.join(folder, n)) for n in needed):
                return folder
        return None

    @staticmethod
    def _load(path: str) -> dict:
        try:
            with open(path, "rb") as f:
                entry = pickle.load(f, encoding="latin1")
        except Exception as e:
            raise RuntimeError(f"cannot read CIFAR batch file {path!r}: {e}") from e
        return {k.decode() if isinstance(k, bytes) else k: v for k, v in entry.items()}

    def __getitem__(self, index: int):
        img, target = self.data[index], self.targets[index]
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"


class CIFAR100(CIFAR10):
    base_folder = "cifar-100-python"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    train_list = ["train"]
    test_list = ["test"]
    meta = {"filename": "meta", "key": "fine_label_names"}
    label_key = "fine_labels"
