"""``torch.utils.data._utils.collate``: re-exports of ``default_collate`` and ``default_convert``."""
from .._collate import default_collate, default_convert

__all__ = ["default_collate", "default_convert"]
