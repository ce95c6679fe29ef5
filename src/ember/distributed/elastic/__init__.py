"""``torch.distributed.elastic``: only what torchrun programs import (``multiprocessing.errors.record``)."""
