"""``nn.DataParallel`` as PyTorch runs it without GPUs: the wrapper keeps the module as
``.module`` (so state_dict keys gain the ``module.`` prefix) and ``forward`` just calls it."""
from __future__ import annotations

from ..modules.module import Module

__all__ = ["DataParallel", "data_parallel"]


class DataParallel(Module):
    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0):
        super().__init__()
        # No GPU: PyTorch keeps the module and an empty device list, and runs it in this process.
        self.module = module
        self.device_ids = []
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


def data_parallel(module, inputs, device_ids=None, output_device=None, dim: int = 0, module_kwargs=None):
    """Functional DataParallel: PyTorch's CPU build cannot determine a device type here."""
    raise RuntimeError("device type could not be determined")
