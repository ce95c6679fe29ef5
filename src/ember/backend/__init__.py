"""The array backend seam: ops compute through ``xp`` (NumPy today) and ``kernels``.

Only this package imports NumPy for computation; a CuPy backend would provide the same names.
"""
import numpy as xp

from . import kernels

__all__ = ["xp", "kernels"]
