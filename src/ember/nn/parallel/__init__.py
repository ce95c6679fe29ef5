"""``torch.nn.parallel``: ``DataParallel`` (on the CPU it just runs the module) and, when ember has
it, ``DistributedDataParallel``."""
from .data_parallel import DataParallel, data_parallel

__all__ = ["DataParallel", "data_parallel"]

try:
    from .distributed import DistributedDataParallel  # noqa: F401
    __all__.append("DistributedDataParallel")
except ImportError:  # not built in this ember
    pass
