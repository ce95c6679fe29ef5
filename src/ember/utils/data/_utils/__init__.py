"""``torch.utils.data._utils``: the paths older code imports collate functions from."""
from . import collate  # noqa: F401
