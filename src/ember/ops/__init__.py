"""ember's op library, one module per family; each module attaches its Tensor methods on import."""
from . import elementwise, shape, reduce, linalg, index, inplace, indexing, sorting, decomp  # noqa: F401
from .elementwise import *
from .shape import *
from .reduce import *
from .linalg import *
from .indexing import *
from .sorting import *
from .decomp import *
