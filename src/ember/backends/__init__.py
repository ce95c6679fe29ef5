"""``torch.backends``: flags scripts set and query; on ember's CPU backend they change nothing."""
from __future__ import annotations

import types

__all__ = ["cudnn", "mps", "mkldnn", "openmp", "mkl", "cuda", "cpu", "opt_einsum"]


class _Flags(types.ModuleType):
    def __init__(self, name, available, **flags):
        super().__init__(name)
        self._available = available
        self.__dict__.update(flags)

    def is_available(self) -> bool:
        return self._available


cudnn = _Flags("torch.backends.cudnn", False, enabled=True, benchmark=False, deterministic=False,
               allow_tf32=True)
cudnn.version = lambda: None
mps = _Flags("torch.backends.mps", False)
mps.is_built = lambda: False
mkldnn = _Flags("torch.backends.mkldnn", False, enabled=False)
openmp = _Flags("torch.backends.openmp", False)
mkl = _Flags("torch.backends.mkl", False)
opt_einsum = _Flags("torch.backends.opt_einsum", True, enabled=True, strategy="auto")
cpu = _Flags("torch.backends.cpu", True)
cpu.get_cpu_capability = lambda: "DEFAULT"


class _Matmul:
    allow_tf32 = False
    allow_fp16_reduced_precision_reduction = True
    allow_bf16_reduced_precision_reduction = True


cuda = _Flags("torch.backends.cuda", False, matmul=_Matmul())
cuda.is_built = lambda: False
