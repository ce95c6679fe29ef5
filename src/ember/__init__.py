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
linalg = __import__("importlib").import_module(".linalg", __name__)  # not `from .`: ops.linalg shadows it
from .serialization import save, load  # noqa: E402
from . import optim  # noqa: E402,F401
from . import utils  # noqa: E402,F401

from ._surface import *
from ._surface import refuse_missing  # noqa: E402
autograd.Variable = _surface.Variable  # torch.autograd.Variable (legacy scripts)
from . import serialization as _serialization  # noqa: E402
for _name in ("add_safe_globals", "get_safe_globals", "clear_safe_globals", "safe_globals"):
    setattr(_serialization, _name, getattr(_surface, _name))  # torch.serialization's allow-list API
from .ops.conv import conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d  # noqa: E402
from .ops.loss import softmax, log_softmax  # noqa: E402
from .ops.dropout import dropout, alpha_dropout  # noqa: E402
from .ops.norm import batch_norm, layer_norm, group_norm, instance_norm  # noqa: E402
from .ops.activation import relu_, selu, celu, prelu, threshold, rrelu  # noqa: E402
from .ops.nn_misc import pixel_shuffle, cosine_similarity, pairwise_distance, pdist  # noqa: E402
from .ops.pool import (adaptive_avg_pool1d, adaptive_max_pool1d, avg_pool1d, max_pool1d, max_pool2d,  # noqa: E402
                       max_pool3d)
from . import amp, cuda, backends, accelerator, multiprocessing  # noqa: E402,F401
from ._alias import install_torch_alias, uninstall_torch_alias  # noqa: E402,F401
from . import distributed  # noqa: E402,F401  (mpi4py is imported by init_process_group only)

# The PyTorch API version ember implements, with ember's own version as the local label, so scripts that
# compare torch.__version__ take their current-PyTorch branches.
__version__ = "2.13.0+ember.0.1.0"

_UNSUPPORTED = {"fx": "torch.fx", "sparse": "sparse tensors", "quantization": "quantization",
                "ao": "quantization (torch.ao)", "onnx": "ONNX export", "export": "torch.export",
                "hub": "torch.hub (no downloads)", "distributions": "torch.distributions",
                "sparse_coo_tensor": "sparse tensors", "fft": "torch.fft", "special": "torch.special",
                "xpu": "XPU devices", "mps": "MPS devices", "nested": "nested tensors",
                "func": "torch.func transforms", "vmap": "torch.vmap"}


def __getattr__(name):
    """Features ember does not have fail at first use with an error that names them."""
    if name in _UNSUPPORTED:
        raise AttributeError(f"ember does not support {_UNSUPPORTED[name]} (torch.{name})")
    if name.startswith("__"):
        raise AttributeError(f"module 'ember' has no attribute '{name}'")
    raise AttributeError(f"ember does not support torch.{name} (module 'ember' (torch) has no attribute '{name}')")


for _m in (_serialization, nn, nn.functional, nn.init, nn.utils, optim, optim.lr_scheduler, utils, utils.data,
           autograd, linalg, cuda, amp, backends, accelerator):
    refuse_missing(_m)
del _m, _name
