"""ember: a deep-learning framework in Python on NumPy with PyTorch's API.

``import ember as torch`` serves the PyTorch programs of the course unchanged.
"""
from __future__ import annotations

from ._dtypes import *
from ._dtypes import can_cast, dtype, finfo, get_default_dtype, iinfo, promote_types, result_type, set_default_dtype
from ._device import device
from ._tensor import Size, Tensor
from ._creation import *
from ._random import *
from . import autograd
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .ops import *
from ._printing import get_printoptions, set_printoptions
from ._legacy import *
from . import nn  # noqa: E402,F401

__version__ = "0.1.0"
