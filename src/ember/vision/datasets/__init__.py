"""``ember.vision.datasets`` (``torchvision.datasets``)."""
from .vision import StandardTransform, VisionDataset
from .mnist import MNIST, FashionMNIST
from .fakedata import FakeData
from .folder import DatasetFolder, ImageFolder
from .cifar import CIFAR10, CIFAR100

__all__ = ["VisionDataset", "StandardTransform", "MNIST", "FashionMNIST", "FakeData", "DatasetFolder", "ImageFolder",
           "CIFAR10", "CIFAR100"]
