"""``ember.nn``: Modules, Parameters, layers, losses, initialization."""
from .parameter import *
from .modules import *
from . import functional, init, utils  # noqa: F401
from . import parallel  # noqa: E402,F401
from .parallel import DataParallel  # noqa: E402,F401
