"""Devices: ember computes on the CPU; CUDA requests fail with PyTorch's error."""
from __future__ import annotations

__all__ = ["device"]

_NO_CUDA = "Torch not compiled with CUDA enabled"


class device:
    """``device('cpu')``, ``device('cpu', 0)``, ``device('cuda:0')`` (the last cannot hold tensors)."""

    __slots__ = ("type", "index")

    def __init__(self, type, index: int | None = None):
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int):
            raise RuntimeError(f"Expected one of cpu, cuda, mps, meta device type at start of device string: {type}")
        if not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments - got ({type!r})")
        if ":" in type:
            type, _, idx = type.partition(":")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}:{idx}'")
            index = int(idx)
        if type not in ("cpu", "cuda", "mps", "meta", "xpu"):
            raise RuntimeError(
                "Expected one of cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, fpga, maia, "
                f"xla, lazy, vulkan, mps, meta, hpu, mtia, privateuseone device type at start of device "
                f"string: {type}")
        self.type, self.index = type, index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


CPU = device("cpu")


def check_device(d) -> device:
    """Normalise a device argument; anything but the CPU raises PyTorch's CPU-build error."""
    if d is None:
        return CPU
    d = d if isinstance(d, device) else device(d)
    if d.type == "cpu":
        return CPU
    if d.type == "cuda":
        raise AssertionError(_NO_CUDA)
    if d.type == "meta":
        raise NotImplementedError("ember does not support the 'meta' device")
    raise RuntimeError(f"ember has no {d.type} backend; only the CPU is available")
