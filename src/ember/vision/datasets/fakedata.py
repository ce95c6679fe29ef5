"""``FakeData``: random images, reproducible per index (``torchvision.datasets.FakeData``)."""
from __future__ import annotations

from typing import Callable

from ..._random import Generator, randint, randn
from .vision import VisionDataset

__all__ = ["FakeData"]


class FakeData(VisionDataset):
    """``size`` random images; ``dataset[i]`` is ``(image, target)`` with the image a float ``(C, H, W)``
    tensor of standard normal values (torchvision gives a PIL Image) and target an int."""

    def __init__(self, size: int = 1000, image_size=(3, 224, 224), num_classes: int = 10,
                 transform: Callable | None = None, target_transform: Callable | None = None, random_offset: int = 0):
        super().__init__(None, transform=transform, target_transform=target_transform)
        self.size = size
        self.num_classes = num_classes
        self.image_size = tuple(image_size)
        self.random_offset = random_offset

    def __getitem__(self, index: int):
        if index >= len(self):
            raise IndexError(f"{self.__class__.__name__} index out of range")
        g = Generator().manual_seed(index + self.random_offset)  # the same sample every time, global RNG untouched
        img = randn(*self.image_size, generator=g)
        target = int(randint(0, self.num_classes, size=(1,), generator=g)[0])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self) -> int:
        return self.size
