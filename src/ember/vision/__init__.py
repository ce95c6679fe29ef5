"""``ember.vision``: torchvision's role -- datasets, transforms, models and image utilities.

``import ember.vision as torchvision`` serves the course's torchvision code.
"""
import importlib

from . import datasets, transforms, utils  # noqa: F401

__version__ = "0.1.0"


def __getattr__(name):
    if name == "models":  # imported on first use: the zoo pulls in all of ember.nn
        return importlib.import_module(".models", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
