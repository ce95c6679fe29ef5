"""Image functions behind ``ember.vision.transforms`` (``torchvision.transforms.functional``).

Images are ember tensors ``(..., C, H, W)`` (or ``(H, W)``), NumPy arrays ``(H, W)`` / ``(H, W, C)``
(the PIL layout) or PIL Images when Pillow is installed; each function returns the kind it was given.
Geometric functions act on the last two dimensions; the work is done on NumPy arrays, so results are
new tensors without autograd history (except ``normalize``, which uses ember ops).
"""
from __future__ import annotations

import math
import numbers
from enum import Enum
from typing import Callable, Sequence

import numpy as np

from ... import _dtypes
from ..._tensor import Tensor

__all__ = ["InterpolationMode", "to_tensor", "pil_to_tensor", "to_pil_image", "normalize", "pad", "crop",
           "center_crop", "resize", "resized_crop", "hflip", "vflip", "affine", "rotate", "rgb_to_grayscale",
           "adjust_brightness", "adjust_contrast", "adjust_saturation", "get_dimensions", "get_image_size",
           "get_image_num_channels"]


class InterpolationMode(Enum):
    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


def _interp(mode) -> InterpolationMode:
    mode = InterpolationMode(mode) if isinstance(mode, str) else mode
    if mode not in (InterpolationMode.NEAREST, InterpolationMode.BILINEAR):
        raise NotImplementedError(f"interpolation {mode.value!r}: ember.vision supports only 'nearest' and 'bilinear'")
    return mode


def _is_pil(img) -> bool:
    try:
        from PIL import Image
    except ImportError:
        return False
    return isinstance(img, Image.Image)


def _unpack(img) -> tuple[np.ndarray, Callable[[np.ndarray], object]]:
    """``img`` as an array in (..., C, H, W) or (H, W) layout, and the function giving back its kind."""
    if isinstance(img, Tensor):
        return img._data, lambda a: Tensor._make(np.ascontiguousarray(a), False, None, 0)
    if _is_pil(img):
        from PIL import Image
        mode = img.mode
        a = np.asarray(img)

        def restore_pil(b):
            b = b.transpose(1, 2, 0) if b.ndim == 3 else b
            return Image.fromarray(np.ascontiguousarray(b), mode=mode)
        return (a.transpose(2, 0, 1) if a.ndim == 3 else a), restore_pil
    if isinstance(img, np.ndarray):
        if img.ndim == 3:
            return img.transpose(2, 0, 1), lambda b: np.ascontiguousarray(b.transpose(1, 2, 0))
        if img.ndim == 2:
            return img, lambda b: np.ascontiguousarray(b)
        raise ValueError(f"a NumPy image should be (H, W) or (H, W, C), got shape {img.shape}")
    raise TypeError(f"img should be an ember Tensor, a NumPy array or a PIL Image. Got {type(img)}")


def get_dimensions(img) -> list[int]:
    """``[channels, height, width]``."""
    a, _ = _unpack(img)
    return [1 if a.ndim == 2 else a.shape[-3], a.shape[-2], a.shape[-1]]


def get_image_size(img) -> list[int]:
    """``[width, height]``."""
    _, h, w = get_dimensions(img)
    return [w, h]


def get_image_num_channels(img) -> int:
    return get_dimensions(img)[0]


def _max_value(dtype) -> float:
    return float(np.iinfo(dtype).max) if dtype.kind in "iu" else 1.0


def _cast_like(a: np.ndarray, dtype) -> np.ndarray:
    """Float results back to an integer image dtype: rounded and clipped, as torchvision does."""
    if np.dtype(dtype).kind in "iu":
        info = np.iinfo(dtype)
        return np.clip(np.round(a), info.min, info.max).astype(dtype)
    return a.astype(dtype, copy=False)


# ---- conversion ---------------------------------------------------------------------------------------

def to_tensor(pic) -> Tensor:
    """PIL Image or ``(H, W[, C])`` array -> ``(C, H, W)`` tensor; uint8 becomes float in [0, 1].

    ember extension: a uint8 tensor ``(H, W)`` or ``(H, W, C)`` (what ember's datasets return) is
    converted like the array; a floating tensor is returned unchanged.
    """
    if isinstance(pic, Tensor):
        if pic.dtype.is_floating_point:
            return pic
        a = pic._data
    elif _is_pil(pic):
        a = np.asarray(pic)
        if pic.mode == "1":
            a = a.astype(np.uint8) * 255
    elif isinstance(pic, np.ndarray):
        a = pic
    else:
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    if a.ndim not in (2, 3):
        raise ValueError(f"pic should be 2/3 dimensional. Got {a.ndim} dimensions.")
    if a.ndim == 2:
        a = a[:, :, None]
    a = np.ascontiguousarray(a.transpose(2, 0, 1))
    if a.dtype == np.uint8:
        dt = _dtypes.get_default_dtype().np
        a = a.astype(dt) / dt.type(255)
    return Tensor._make(a, False, None, 0)


def pil_to_tensor(pic) -> Tensor:
    """PIL Image (or ``(H, W[, C])`` array) -> ``(C, H, W)`` tensor of the same dtype, unscaled."""
    if isinstance(pic, Tensor):  # ember's datasets give uint8 tensor images (H, W) / (H, W, C)
        a = pic._data
    elif _is_pil(pic) or isinstance(pic, np.ndarray):
        a = np.asarray(pic)
    else:
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    if a.ndim == 2:
        a = a[:, :, None]
    return Tensor._make(np.ascontiguousarray(a.transpose(2, 0, 1)), False, None, 0)


def to_pil_image(pic, mode: str | None = None):
    """A ``(C, H, W)`` tensor (float in [0, 1] or uint8) or ``(H, W[, C])`` array -> PIL Image (needs Pillow)."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("to_pil_image needs Pillow: pip install pillow") from None
    if isinstance(pic, Tensor):
        a = pic._data
        if a.ndim == 2:
            a = a[None]
        a = a.transpose(1, 2, 0)
        if a.dtype.kind == "f":
            a = (a * 255).astype(np.uint8)  # torchvision's conversion: multiply and truncate
    else:
        a = np.asarray(pic)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    return Image.fromarray(np.ascontiguousarray(a), mode=mode)


def normalize(tensor: Tensor, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> Tensor:
    """``(tensor - mean[c]) / std[c]`` per channel; tensor: ``(..., C, H, W)`` floating."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    if not tensor.dtype.is_floating_point:
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError(f"Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = "
                         f"{tuple(tensor.shape)}")
    dt = tensor._data.dtype
    m = np.asarray(mean, dtype=dt).reshape(-1, 1, 1)
    s = np.asarray(std, dtype=dt).reshape(-1, 1, 1)
    if (s == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, leading to division by zero.")
    mt = Tensor._make(m, False, None, 0)
    st = Tensor._make(s, False, None, 0)
    if inplace:
        return tensor.sub_(mt).div_(st)
    return tensor.sub(mt).div(st)


# ---- geometry -----------------------------------------------------------------------------------------

def _parse_padding(padding) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) from an int or a 1-, 2- or 4-sequence."""
    if isinstance(padding, numbers.Number):
        p = int(padding)
        return p, p, p, p
    padding = list(padding)
    if len(padding) == 1:
        return (int(padding[0]),) * 4
    if len(padding) == 2:
        return int(padding[0]), int(padding[1]), int(padding[0]), int(padding[1])
    if len(padding) == 4:
        return tuple(int(p) for p in padding)
    raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")


def _pad_array(a: np.ndarray, ltrb, fill=0, padding_mode: str = "constant") -> np.ndarray:
    left, top, right, bottom = ltrb
    if min(ltrb) < 0:
        raise NotImplementedError("negative padding is not supported")
    widths = [(0, 0)] * (a.ndim - 2) + [(top, bottom), (left, right)]
    if padding_mode == "constant":
        if isinstance(fill, (tuple, list)):
            if a.ndim < 3 or len(fill) != a.shape[-3]:
                raise ValueError("fill must be a number or a sequence with one value per channel")
            out = np.empty(a.shape[:-2] + (a.shape[-2] + top + bottom, a.shape[-1] + left + right), a.dtype)
            out[...] = np.asarray(fill, dtype=a.dtype).reshape(-1, 1, 1)
            out[..., top:top + a.shape[-2], left:left + a.shape[-1]] = a
            return out
        return np.pad(a, widths, mode="constant", constant_values=fill)
    if padding_mode not in ("edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    return np.pad(a, widths, mode=padding_mode)


def pad(img, padding, fill=0, padding_mode: str = "constant"):
    """Pad the last two dimensions; padding: int, (left/right, top/bottom) or (left, top, right, bottom)."""
    a, restore = _unpack(img)
    return restore(_pad_array(a, _parse_padding(padding), fill, padding_mode))


def crop(img, top: int, left: int, height: int, width: int):
    """The ``height x width`` region at (top, left); parts outside the image are zero, as in torchvision."""
    a, restore = _unpack(img)
    h, w = a.shape[-2:]
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        ltrb = (max(-left, 0), max(-top, 0), max(right - w, 0), max(bottom - h, 0))
        a = _pad_array(a[..., max(top, 0):bottom, max(left, 0):right], ltrb)
        return restore(a)
    return restore(a[..., top:bottom, left:right])


def _pair(size, name="size") -> tuple[int, int]:
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    size = tuple(size)
    if len(size) == 1:
        return int(size[0]), int(size[0])
    if len(size) != 2:
        raise ValueError(f"Please provide only two dimensions (h, w) for {name}.")
    return int(size[0]), int(size[1])


def center_crop(img, output_size):
    """The central ``output_size`` region (zero-padded when the image is smaller)."""
    th, tw = _pair(output_size)
    _, h, w = get_dimensions(img)
    if tw > w or th > h:
        ltrb = ((tw - w) // 2 if tw > w else 0, (th - h) // 2 if th > h else 0,
                (tw - w + 1) // 2 if tw > w else 0, (th - h + 1) // 2 if th > h else 0)
        img = pad(img, ltrb)
        _, h, w = get_dimensions(img)
        if tw == w and th == h:
            return img
    return crop(img, int(round((h - th) / 2.0)), int(round((w - tw) / 2.0)), th, tw)


def _output_size(h: int, w: int, size, max_size) -> tuple[int, int]:
    if isinstance(size, numbers.Number) or (isinstance(size, (list, tuple)) and len(size) == 1):
        s = int(size if isinstance(size, numbers.Number) else size[0])
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = s, int(s * long / short)
        if max_size is not None:
            if max_size <= s:
                raise ValueError(f"max_size = {max_size} must be strictly greater than the requested size for the "
                                 f"smaller edge size = {size}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
        return (new_long, new_short) if w <= h else (new_short, new_long)
    if max_size is not None:
        raise ValueError("max_size should only be passed if size specifies the length of the smaller edge")
    return _pair(size)


def _resize_array(a: np.ndarray, oh: int, ow: int, mode: InterpolationMode) -> np.ndarray:
    h, w = a.shape[-2:]
    if (oh, ow) == (h, w):
        return a.copy()
    if mode is InterpolationMode.NEAREST:  # PyTorch's 'nearest': src = floor(dst * in / out)
        ys = np.minimum(np.floor(np.arange(oh) * (h / oh)).astype(np.int64), h - 1)
        xs = np.minimum(np.floor(np.arange(ow) * (w / ow)).astype(np.int64), w - 1)
        return a[..., ys[:, None], xs[None, :]]
    f = a.astype(np.float32) if a.dtype.kind != "f" else a

    def weights(n_out, n_in):  # align_corners=False
        src = np.maximum((np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5, 0)
        i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
        i1 = np.minimum(i0 + 1, n_in - 1)
        lam = (src - i0).astype(f.dtype)
        return i0, i1, lam
    y0, y1, ly = weights(oh, h)
    x0, x1, lx = weights(ow, w)
    rows = f[..., y0, :] * (1 - ly)[:, None] + f[..., y1, :] * ly[:, None]
    out = rows[..., x0] * (1 - lx) + rows[..., x1] * lx
    return _cast_like(out, a.dtype)


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resize the last two dimensions to ``size`` ((h, w), or the smaller edge when an int).

    Bilinear resizing is without antialiasing (PyTorch's ``interpolate(..., antialias=False)``).
    """
    mode = _interp(interpolation)
    a, restore = _unpack(img)
    oh, ow = _output_size(a.shape[-2], a.shape[-1], size, max_size)
    return restore(_resize_array(a, oh, ow, mode))


def resized_crop(img, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR, antialias=True):
    return resize(crop(img, top, left, height, width), size, interpolation)


def hflip(img):
    a, restore = _unpack(img)
    return restore(a[..., ::-1])


def vflip(img):
    a, restore = _unpack(img)
    return restore(a[..., ::-1, :])


def _inverse_affine_matrix(center, angle, translate, scale, shear) -> list[float]:
    """Output pixel -> input pixel, for rotation ``angle`` (degrees, clockwise) about ``center``,
    then scale, shear and translation -- the matrix torchvision documents."""
    rot = math.radians(angle)
    sx, sy = math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    m = [d / scale, -b / scale, 0.0, -c / scale, a / scale, 0.0]
    m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty)
    m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty)
    m[2] += cx
    m[5] += cy
    return m


def _warp(a: np.ndarray, m, mode: InterpolationMode, fill) -> np.ndarray:
    h, w = a.shape[-2:]
    ys, xs = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    sx = m[0] * xs + m[1] * ys + m[2]
    sy = m[3] * xs + m[4] * ys + m[5]
    fill_arr = np.asarray(0 if fill is None else fill, dtype=np.float64)
    if fill_arr.ndim == 1 and a.ndim >= 3:
        fill_arr = fill_arr.reshape(-1, 1, 1)
    if mode is InterpolationMode.NEAREST:
        ix, iy = np.rint(sx).astype(np.int64), np.rint(sy).astype(np.int64)
        inside = (ix >= 0) & (ix < w) & (iy >= 0) & (iy < h)
        out = a[..., np.clip(iy, 0, h - 1), np.clip(ix, 0, w - 1)].astype(np.float64)
        out = np.where(inside, out, fill_arr)
        return _cast_like(out, a.dtype)
    x0, y0 = np.floor(sx).astype(np.int64), np.floor(sy).astype(np.int64)
    fx, fy = sx - x0, sy - y0
    out = np.zeros(a.shape[:-2] + (h, w))
    weight = np.zeros((h, w))
    for dy, wy in ((0, 1 - fy), (1, fy)):
        for dx, wx in ((0, 1 - fx), (1, fx)):
            xx, yy = x0 + dx, y0 + dy
            ok = (xx >= 0) & (xx < w) & (yy >= 0) & (yy < h)
            wgt = wx * wy * ok
            out = out + a[..., np.clip(yy, 0, h - 1), np.clip(xx, 0, w - 1)] * wgt
            weight = weight + wgt
    out = out + fill_arr * (1 - weight)  # outside the image: the fill value, blended at the border
    return _cast_like(out, a.dtype)


def affine(img, angle: float, translate: Sequence[int], scale: float, shear, interpolation=InterpolationMode.NEAREST,
           fill=None, center=None):
    """Rotate by ``angle`` degrees (clockwise), scale, shear and translate about the image centre."""
    mode = _interp(interpolation)
    a, restore = _unpack(img)
    h, w = a.shape[-2:]
    if isinstance(shear, numbers.Number):
        shear = [float(shear), 0.0]
    shear = list(shear) + [0.0] * (2 - len(shear))
    c = ((w - 1) * 0.5, (h - 1) * 0.5) if center is None else tuple(center)
    m = _inverse_affine_matrix(c, angle, [float(t) for t in translate], float(scale), shear)
    return restore(_warp(a, m, mode, fill))


def rotate(img, angle: float, interpolation=InterpolationMode.NEAREST, expand: bool = False, center=None, fill=None):
    """Rotate by ``angle`` degrees counter-clockwise about the centre (``expand`` is not supported)."""
    if expand:
        raise NotImplementedError("rotate(expand=True) is not supported by ember.vision")
    return affine(img, -angle, [0, 0], 1.0, [0.0, 0.0], interpolation, fill, center)


# ---- colour -------------------------------------------------------------------------------------------

def _channels(a: np.ndarray) -> int:
    return 1 if a.ndim == 2 else a.shape[-3]


def _gray(a: np.ndarray) -> np.ndarray:
    """(..., 1, H, W) luma in float, ITU-R 601-2 weights."""
    if a.ndim == 2:
        return a[None].astype(np.float32)
    if a.shape[-3] == 1:
        return a.astype(np.float32)
    r, g, b = a[..., 0, :, :], a[..., 1, :, :], a[..., 2, :, :]
    return (0.2989 * r + 0.587 * g + 0.114 * b).astype(np.float32)[..., None, :, :]


def rgb_to_grayscale(img, num_output_channels: int = 1):
    a, restore = _unpack(img)
    if _channels(a) not in (1, 3):
        raise TypeError(f"Input image tensor permitted channel values are [1, 3], but found {_channels(a)}")
    g = _cast_like(_gray(a), a.dtype)
    if num_output_channels == 3:
        g = np.concatenate([g, g, g], axis=-3)
    if a.ndim == 2 and num_output_channels == 1:
        g = g[0]
    return restore(g)


def _blend(a: np.ndarray, other, ratio: float) -> np.ndarray:
    out = ratio * a.astype(np.float32) + (1.0 - ratio) * other
    out = np.clip(out, 0, _max_value(a.dtype))
    return out.astype(a.dtype) if a.dtype.kind in "iu" else out.astype(a.dtype, copy=False)


def adjust_brightness(img, brightness_factor: float):
    if brightness_factor < 0:
        raise ValueError(f"brightness_factor ({brightness_factor}) is not non-negative.")
    a, restore = _unpack(img)
    return restore(_blend(a, 0.0, brightness_factor))


def adjust_contrast(img, contrast_factor: float):
    if contrast_factor < 0:
        raise ValueError(f"contrast_factor ({contrast_factor}) is not non-negative.")
    a, restore = _unpack(img)
    g = _gray(a)
    if a.dtype.kind in "iu":
        g = np.floor(g)  # torchvision converts the grey image back to the integer dtype first
    mean = g.mean(axis=(-3, -2, -1), keepdims=True)
    if a.ndim == 2:
        mean = mean[0]
    return restore(_blend(a, mean, contrast_factor))


def adjust_saturation(img, saturation_factor: float):
    if saturation_factor < 0:
        raise ValueError(f"saturation_factor ({saturation_factor}) is not non-negative.")
    a, restore = _unpack(img)
    if _channels(a) == 1:
        return restore(a.copy())
    g = _gray(a)
    if a.dtype.kind in "iu":
        g = np.floor(g)
    return restore(_blend(a, g, saturation_factor))
