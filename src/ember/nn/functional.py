"""``ember.nn.functional``: thin re-exports of the ops that networks use (each lives in ``ember.ops``)."""
from ..ops.linalg import linear
from ..ops.activation import *
from ..ops.norm import *
from ..ops.dropout import *
from ..ops.loss import *
from ..ops.conv import *
from ..ops.pool import *
from ..ops.nn_misc import *
