"""``ember.vision.models``: the course's architectures, with torchvision's constructor names,
signatures and module names (so ``state_dict`` keys match and PyTorch weights load), plus the
course's own networks and the tools around them (convolutionize, test-time augmentation, ensembles).

Pretrained weights are not downloaded: ``weights=`` other than ``None`` raises; load a checkpoint
with ``model.load_state_dict(ember.load(path))``.
"""
from ._utils import get_model, get_model_builder, list_models
from .alexnet import *
from .course import *
from .densenet import *
from .googlenet import *
from .lenet import *
from .nin import *
from .resnet import *
from .senet import *
from .tools import *
from .vgg import *

__all__ = ["get_model", "get_model_builder", "list_models"] + [
    name for _mod in ("alexnet", "course", "densenet", "googlenet", "lenet", "nin", "resnet", "senet", "tools", "vgg")
    for name in __import__("sys").modules[f"{__name__}.{_mod}"].__all__]
