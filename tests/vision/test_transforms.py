"""ember.vision.transforms and vision.utils against torch computations on the same arrays."""
import io
import math

import numpy as np
import pytest

import ember
from ember.vision import transforms as T
from ember.vision import utils as vutils
from ember.vision.transforms import functional as F
from conftest import requires_torch, torch


def _img(shape=(3, 7, 9), dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == np.uint8:
        return rng.integers(0, 256, shape, dtype=np.uint8)
    return rng.random(shape, dtype=np.float32)


def _t(a):
    return ember.from_numpy(np.ascontiguousarray(a))


@requires_torch
@pytest.mark.parametrize("shape", [(5, 4), (5, 4, 1), (5, 4, 3)])
def test_to_tensor_exact(shape):
    a = _img(shape, np.uint8)
    ref = torch.from_numpy(a.reshape(shape[0], shape[1], -1)).permute(2, 0, 1).contiguous().float().div(255)
    for src in (a, _t(a)):  # ndarray (H, W[, C]) and ember's uint8 tensor image
        out = T.ToTensor()(src)
        assert out.dtype == ember.float32 and tuple(out.shape) == tuple(ref.shape)
        np.testing.assert_array_equal(out._data, ref.numpy())
    f = _img((3, 4, 2))
    np.testing.assert_array_equal(T.ToTensor()(f)._data, f.transpose(2, 0, 1))  # float arrays are not scaled
    for src in (a, _t(a)):
        out = T.PILToTensor()(src)
        assert tuple(out.shape) == tuple(ref.shape) and out.dtype == ember.uint8
        np.testing.assert_array_equal(out._data, a.reshape(shape[0], shape[1], -1).transpose(2, 0, 1))


def test_to_tensor_pil():
    Image = pytest.importorskip("PIL.Image")
    a = _img((4, 6, 3), np.uint8)
    out = T.ToTensor()(Image.fromarray(a))
    np.testing.assert_array_equal(out._data, a.transpose(2, 0, 1) / np.float32(255))


@requires_torch
@pytest.mark.parametrize("shape", [(3, 5, 6), (2, 3, 5, 6)])
def test_normalize_exact(shape):
    a = _img(shape)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    ref = torch.from_numpy(a).sub(torch.tensor(mean).view(-1, 1, 1)).div(torch.tensor(std).view(-1, 1, 1))
    out = T.Normalize(mean, std)(_t(a))
    np.testing.assert_array_equal(out._data, ref.numpy())
    x = _t(a)
    y = T.Normalize(mean, std, inplace=True)(x)
    assert y is x
    np.testing.assert_array_equal(x._data, ref.numpy())
    with pytest.raises(TypeError, match="float tensor"):
        T.Normalize(mean, std)(_t(_img(shape, np.uint8)))
    with pytest.raises(ValueError, match="division by zero"):
        T.Normalize(mean, (1, 0, 1))(_t(a))


@requires_torch
def test_flips_on_tensors_arrays_and_batches():
    a = _img((2, 3, 4, 5))
    np.testing.assert_array_equal(F.hflip(_t(a))._data, torch.from_numpy(a).flip(-1).numpy())
    np.testing.assert_array_equal(F.vflip(_t(a))._data, torch.from_numpy(a).flip(-2).numpy())
    hwc = _img((4, 5, 3), np.uint8)
    np.testing.assert_array_equal(F.hflip(hwc), hwc[:, ::-1])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(hwc), hwc[:, ::-1])
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(_t(a))._data, a[..., ::-1, :])
    assert T.RandomHorizontalFlip(p=0.0)(hwc) is hwc
    ember.manual_seed(0)
    flips = [bool((T.RandomHorizontalFlip()(_t(a))._data != a).any()) for _ in range(200)]
    assert 60 < sum(flips) < 140


@requires_torch
@pytest.mark.parametrize("mode,tmode", [("constant", "constant"), ("edge", "replicate"), ("reflect", "reflect")])
@pytest.mark.parametrize("padding", [2, (1, 3), (1, 2, 3, 0)])
def test_pad_matches_torch(mode, tmode, padding):
    a = _img((2, 3, 5, 6))
    ltrb = F._parse_padding(padding)
    ref = torch.nn.functional.pad(torch.from_numpy(a), (ltrb[0], ltrb[2], ltrb[1], ltrb[3]), mode=tmode)
    np.testing.assert_array_equal(F.pad(_t(a), padding, padding_mode=mode)._data, ref.numpy())


def test_random_crop_with_padding_geometry():
    a = _img((1, 6, 7), np.uint8)
    padded = np.pad(a, ((0, 0), (2, 2), (2, 2)), constant_values=9)
    ember.manual_seed(3)
    seen = set()
    for _ in range(40):
        out = T.RandomCrop((6, 7), padding=2, fill=9)(_t(a))._data
        assert out.shape == (1, 6, 7)
        hits = [(i, j) for i in range(5) for j in range(5) if np.array_equal(padded[:, i:i + 6, j:j + 7], out)]
        assert hits
        seen.add(hits[0])
    assert len(seen) > 5  # the offsets vary
    ember.manual_seed(3)
    again = T.RandomCrop((6, 7), padding=2, fill=9)(_t(a))._data
    ember.manual_seed(3)
    np.testing.assert_array_equal(again, T.RandomCrop((6, 7), padding=2, fill=9)(_t(a))._data)
    # pad_if_needed grows a small image to the crop size; HWC arrays stay HWC
    small = _img((3, 4, 3), np.uint8)
    out = T.RandomCrop(5, pad_if_needed=True)(small)
    assert out.shape == (5, 5, 3)
    with pytest.raises(ValueError, match="larger than input image size"):
        T.RandomCrop(8)(_t(a))


def test_crop_center_crop_and_out_of_bounds():
    a = _img((1, 6, 7))
    np.testing.assert_array_equal(F.crop(_t(a), 1, 2, 3, 4)._data, a[:, 1:4, 2:6])
    oob = F.crop(_t(a), -1, 5, 3, 4)._data
    assert oob.shape == (1, 3, 4) and (oob[:, 0] == 0).all() and (oob[:, :, 2:] == 0).all()
    np.testing.assert_array_equal(oob[:, 1:, :2], a[:, 0:2, 5:7])
    cc = T.CenterCrop(4)(_t(a))._data
    top, left = int(round((6 - 4) / 2.0)), int(round((7 - 4) / 2.0))
    np.testing.assert_array_equal(cc, a[:, top:top + 4, left:left + 4])
    big = T.CenterCrop((8, 9))(_t(a))._data
    assert big.shape == (1, 8, 9)
    np.testing.assert_array_equal(big[:, 1:7, 1:8], a)


@requires_torch
@pytest.mark.parametrize("size", [(4, 5), (9, 13), (6, 3)])
@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_resize_matches_interpolate(size, mode):
    a = _img((2, 3, 6, 7))
    kw = {} if mode == "nearest" else dict(align_corners=False, antialias=False)
    ref = torch.nn.functional.interpolate(torch.from_numpy(a), size=size, mode=mode, **kw)
    out = T.Resize(size, interpolation=mode)(_t(a))
    np.testing.assert_allclose(out._data, ref.numpy(), rtol=1e-5, atol=1e-6)
    assert tuple(T.Resize(3)(_t(a)).shape) == (2, 3, 3, 3)  # smaller edge 6 -> 3, 7 -> int(3 * 7 / 6)


def test_rotation_and_affine_geometry():
    a = _img((2, 5, 5))
    np.testing.assert_array_equal(F.rotate(_t(a), 90)._data, np.rot90(a, 1, axes=(1, 2)))  # counter-clockwise
    np.testing.assert_array_equal(F.rotate(_t(a), -90)._data, np.rot90(a, -1, axes=(1, 2)))
    np.testing.assert_array_equal(F.affine(_t(a), 90, [0, 0], 1.0, 0)._data, np.rot90(a, -1, axes=(1, 2)))  # clockwise
    shifted = F.affine(_t(a), 0, [2, -1], 1.0, 0)._data  # out[y, x] = in[y + 1, x - 2]
    ref = np.zeros_like(a)
    ref[:, :4, 2:] = a[:, 1:, :3]
    np.testing.assert_array_equal(shifted, ref)
    np.testing.assert_allclose(F.affine(_t(a), 0, [0, 0], 1.0, 0, interpolation="bilinear")._data, a, atol=1e-6)
    # RandomAffine with translate: a whole-pixel shift within the bounds; reproducible
    ember.manual_seed(5)
    out1 = T.RandomAffine(0, translate=(0.4, 0.4))(_t(a))._data
    ember.manual_seed(5)
    out2 = T.RandomAffine(0, translate=(0.4, 0.4))(_t(a))._data
    np.testing.assert_array_equal(out1, out2)
    ok = False
    for tx in range(-2, 3):
        for ty in range(-2, 3):
            ok |= np.array_equal(F.affine(_t(a), 0, [tx, ty], 1.0, 0)._data, out1)
    assert ok
    r = T.RandomRotation((30, 30), fill=0.5)(_t(a))._data
    assert r.shape == a.shape and (r == 0.5).any()
    u8 = _img((5, 5), np.uint8)
    assert T.RandomRotation(20)(u8).dtype == np.uint8


@requires_torch
def test_color_and_grayscale():
    a = _img((3, 4, 5))
    np.testing.assert_allclose(F.adjust_brightness(_t(a), 1.7)._data, torch.from_numpy(a).mul(1.7).clamp(0, 1).numpy(),
                               rtol=1e-6)
    g = 0.2989 * a[0] + 0.587 * a[1] + 0.114 * a[2]
    np.testing.assert_allclose(T.Grayscale()(_t(a))._data[0], g, rtol=1e-6)
    assert tuple(T.Grayscale(3)(_t(a)).shape) == (3, 4, 5)
    c = F.adjust_contrast(_t(a), 0.5)._data
    np.testing.assert_allclose(c, np.clip(0.5 * a + 0.5 * g.mean(), 0, 1), rtol=1e-5)
    ember.manual_seed(0)
    out = T.ColorJitter(brightness=0.5, contrast=0.5, saturation=0.5)(_t(a))
    assert tuple(out.shape) == a.shape and out._data.min() >= 0 and out._data.max() <= 1
    with pytest.raises(NotImplementedError, match="hue"):
        T.ColorJitter(hue=0.1)


def test_resized_crop_lambda_compose_and_pil():
    a = _img((1, 10, 12))
    ember.manual_seed(0)
    out = T.RandomResizedCrop(6)(_t(a))
    assert tuple(out.shape) == (1, 6, 6)
    tf = T.Compose([T.Lambda(lambda x: x * 2), T.Pad(1)])
    assert tuple(tf(_t(a)).shape) == (1, 12, 14) and "Lambda" in repr(tf)
    Image = pytest.importorskip("PIL.Image")
    pil = Image.fromarray(_img((8, 9, 3), np.uint8))
    c = T.RandomCrop(5, padding=1)(pil)
    assert isinstance(c, Image.Image) and c.size == (5, 5)
    np.testing.assert_array_equal(np.asarray(F.hflip(pil)), np.asarray(pil)[:, ::-1])


def test_batch_gets_one_draw_for_all_images():
    a = np.stack([_img((1, 6, 6), seed=0)] * 4)
    ember.manual_seed(1)
    out = T.RandomCrop(4, padding=1)(_t(a))._data
    assert all(np.array_equal(out[0], out[k]) for k in range(4))


# ---- make_grid / save_image -------------------------------------------------------------------------

def _torchvision_make_grid(t, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0):
    """torchvision.utils.make_grid's documented layout, restated on torch tensors (torchvision is not installed)."""
    if t.dim() == 3:
        t = t.unsqueeze(0)
    if t.size(1) == 1:
        t = torch.cat((t, t, t), 1)
    if normalize:
        t = t.clone()
        lo, hi = value_range if value_range is not None else (float(t.min()), float(t.max()))
        t.clamp_(min=lo, max=hi).sub_(lo).div_(max(hi - lo, 1e-5))
    if t.size(0) == 1:
        return t.squeeze(0)
    nmaps = t.size(0)
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    height, width = int(t.size(2) + padding), int(t.size(3) + padding)
    grid = t.new_full((t.size(1), height * ymaps + padding, width * xmaps + padding), pad_value)
    k = 0
    for y in range(ymaps):
        for x in range(xmaps):
            if k >= nmaps:
                break
            grid.narrow(1, y * height + padding, height - padding).narrow(2, x * width + padding,
                                                                         width - padding).copy_(t[k])
            k += 1
    return grid


@requires_torch
@pytest.mark.parametrize("shape,kw", [((10, 1, 4, 5), {}), ((5, 3, 4, 4), dict(nrow=2, padding=1, pad_value=0.5)),
                                      ((3, 3, 2, 3), dict(nrow=8, padding=0)),
                                      ((7, 1, 3, 3), dict(nrow=3, normalize=True)),
                                      ((4, 3, 3, 3), dict(normalize=True, value_range=(0.2, 0.8))),
                                      ((1, 3, 5, 5), {}), ((3, 6, 6), {})])
def test_make_grid_layout(shape, kw):
    a = _img(shape) * 2 - 0.5
    out = vutils.make_grid(_t(a), **kw)
    ref = _torchvision_make_grid(torch.from_numpy(a), **kw)
    assert tuple(out.shape) == tuple(ref.shape)
    np.testing.assert_allclose(out._data, ref.numpy(), rtol=1e-6, atol=1e-7)
    listed = vutils.make_grid([_t(x) for x in a], **kw) if len(shape) == 4 else out
    np.testing.assert_array_equal(listed._data, out._data)


def test_save_image_png_readable(tmp_path, monkeypatch):
    Image = pytest.importorskip("PIL.Image")
    a = _img((6, 1, 5, 4))
    expected = np.clip(vutils.make_grid(_t(a), nrow=3)._data * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    vutils.save_image(_t(a), tmp_path / "pil.png", nrow=3)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "pil.png")), expected)
    # the pure-Python writer, as used when Pillow is missing
    import builtins
    real_import = builtins.__import__

    def no_pil(name, *args, **kwargs):
        if name == "PIL" or name.startswith("PIL."):
            raise ImportError("no Pillow")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_pil)
    vutils.save_image(_t(a), tmp_path / "raw.png", nrow=3)
    buf = io.BytesIO()
    vutils.save_image(_t(a), buf, nrow=3)
    monkeypatch.setattr(builtins, "__import__", real_import)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "raw.png")), expected)
    assert buf.getvalue() == (tmp_path / "raw.png").read_bytes()
    for img in (expected[:, :, 0], np.dstack([expected, expected[:, :, :1]])):
        vutils.write_png(tmp_path / "x.png", img)
        np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "x.png")), img)
