"""Array-level compute kernels (NumPy, no autograd): ``conv`` and ``pool``. See each module's docstring."""
from . import conv, pool

__all__ = ["conv", "pool"]
