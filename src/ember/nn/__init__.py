"""``ember.nn``: Modules, Parameters, layers, losses, initialization."""
from .parameter import *
from .modules import *
from . import functional, init, utils  # noqa: F401
