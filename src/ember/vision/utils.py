"""``make_grid`` and ``save_image`` (``torchvision.utils``): image grids, written as PNG.

``save_image`` uses Pillow when it is installed and otherwise a small PNG writer (zlib + NumPy).
"""
from __future__ import annotations

import math
import os
import struct
import zlib

import numpy as np

from .._tensor import Tensor

__all__ = ["make_grid", "save_image", "write_png"]


def _as_array(tensor) -> np.ndarray:
    if isinstance(tensor, (list, tuple)):
        return np.stack([_as_array(t) for t in tensor])
    if isinstance(tensor, Tensor):
        return tensor.detach()._data
    return np.asarray(tensor)


def make_grid(tensor, nrow: int = 8, padding: int = 2, normalize: bool = False, value_range=None,
              scale_each: bool = False, pad_value: float = 0.0) -> Tensor:
    """Tile images ``(B, C, H, W)`` (or a list of ``(C, H, W)``) into one ``(3, H', W')`` image,
    ``nrow`` images per row, ``padding`` pixels of ``pad_value`` around each."""
    a = _as_array(tensor)
    if a.ndim == 2:
        a = a[None]
    if a.ndim == 3:
        if a.shape[0] == 1:
            a = np.concatenate([a, a, a], 0)
        a = a[None]
    if a.ndim != 4:
        raise ValueError(f"tensor should be a 4-D batch of images (B, C, H, W), got shape {a.shape}")
    if a.shape[1] == 1:
        a = np.concatenate([a, a, a], 1)
    if normalize:
        a = a.astype(np.float32) if a.dtype.kind != "f" else a.copy()

        def norm(img, low, high):
            np.clip(img, low, high, out=img)
            img -= low
            img /= max(high - low, 1e-5)

        def norm_range(t):
            if value_range is not None:
                norm(t, value_range[0], value_range[1])
            else:
                norm(t, float(t.min()), float(t.max()))
        if scale_each:
            for t in a:
                norm_range(t)
        else:
            norm_range(a)
    if a.shape[0] == 1:
        return Tensor._make(np.ascontiguousarray(a[0]), False, None, 0)
    nmaps = a.shape[0]
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    height, width = a.shape[2] + padding, a.shape[3] + padding
    grid = np.full((a.shape[1], height * ymaps + padding, width * xmaps + padding), pad_value, dtype=a.dtype)
    for k in range(nmaps):
        y, x = divmod(k, xmaps)
        grid[:, y * height + padding:(y + 1) * height, x * width + padding:(x + 1) * width] = a[k]
    return Tensor._make(grid, False, None, 0)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_png(fp, image: np.ndarray) -> None:
    """Write a uint8 image ``(H, W)`` (grey), ``(H, W, 3)`` (RGB) or ``(H, W, 4)`` (RGBA) as PNG."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    color_type = {2: 0, 3: {3: 2, 4: 6}.get(image.shape[-1])}.get(image.ndim)
    if color_type is None:
        raise ValueError(f"write_png: image should be (H, W), (H, W, 3) or (H, W, 4), got {image.shape}")
    h, w = image.shape[:2]
    raw = np.concatenate([np.zeros((h, 1), np.uint8), image.reshape(h, -1)], axis=1)  # filter byte 0 per row
    png = (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0))
           + _chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)) + _chunk(b"IEND", b""))
    if hasattr(fp, "write"):
        fp.write(png)
    else:
        with open(fp, "wb") as f:
            f.write(png)


def save_image(tensor, fp, format: str | None = None, **kwargs) -> None:
    """Save a tensor image or batch (values in [0, 1]) as a grid image; kwargs go to ``make_grid``."""
    grid = make_grid(tensor, **kwargs)._data
    ndarr = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    try:
        from PIL import Image
    except ImportError:
        Image = None
    if Image is not None:
        Image.fromarray(ndarr).save(fp, format=format)
        return
    name = fp if isinstance(fp, (str, os.PathLike)) else None
    if (format or "png").lower() != "png" or (name is not None and not os.fspath(name).lower().endswith(".png")
                                              and format is None):
        raise ValueError("without Pillow, save_image writes PNG only (pip install pillow for other formats)")
    write_png(fp, ndarr)
