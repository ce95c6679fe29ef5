"""``ember.vision.transforms`` (``torchvision.transforms``)."""
from . import functional  # noqa: F401
from .transforms import *
