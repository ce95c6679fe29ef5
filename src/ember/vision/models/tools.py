"""Tools the course uses around classifiers: ``convolutionize`` (fully convolutional evaluation),
test-time augmentation and ensembles."""
from __future__ import annotations

from typing import Callable, Sequence

from ... import nn

__all__ = ["convolutionize", "tta_predict", "flip_transforms", "five_crop_transforms", "ten_crop_transforms",
           "Ensemble"]


def convolutionize(layers: Sequence[nn.Module], input_size: Sequence[int]) -> list:
    """The notes' routine: run a zero input of size ``input_size`` (C, H, W) through ``layers`` and
    replace every ``nn.Linear`` by an ``nn.Conv2d`` whose kernel covers the whole map it receives,
    with the Linear's weights and bias copied. On an input of ``input_size`` the result computes the
    same scores (with a 1x1 spatial map); on a larger input it gives a map of scores.

    As the notes warn, only ``nn.Linear`` is converted (an ``nn.Flatten`` is dropped): pass the
    layers that see 4-D maps, e.g. ``list(alexnet.features) + list(alexnet.classifier)``.
    """
    from ... import no_grad, zeros
    result_layers = []
    with no_grad():
        x = zeros((1,) + tuple(input_size))
        for m in layers:
            if isinstance(m, nn.Flatten):
                continue
            if isinstance(m, nn.Linear):
                if x.dim() != 4:
                    raise ValueError(f"convolutionize: Linear layer {m!r} receives a {x.dim()}-D tensor of shape "
                                     f"{list(x.shape)}; it needs a 4-D map (N, C, H, W) to become a convolution")
                if x.shape[1] * x.shape[2] * x.shape[3] != m.in_features:
                    raise ValueError(f"convolutionize: Linear layer {m!r} receives maps of size "
                                     f"{list(x.shape[1:])} ({x.shape[1] * x.shape[2] * x.shape[3]} values) but "
                                     f"expects {m.in_features} features")
                n = nn.Conv2d(in_channels=x.shape[1], out_channels=m.weight.shape[0],
                              kernel_size=(x.shape[2], x.shape[3]), bias=m.bias is not None)
                n.weight.copy_(m.weight.reshape(n.weight.shape))
                if m.bias is not None:
                    n.bias.copy_(m.bias.reshape(n.bias.shape))
                n.train(m.training)
                m = n
            result_layers.append(m)
            x = m(x)
    return result_layers


# --- test-time augmentation ----------------------------------------------------------------------

def _identity(x):
    return x


def _hflip(x):
    return x.flip(-1)


def flip_transforms() -> list:
    """The input and its horizontal reflection."""
    return [_identity, _hflip]


def five_crop_transforms(size) -> list:
    """Crops of ``size`` (int or (h, w)) at the four corners and the centre of a batch (N, C, H, W)."""
    h, w = (size, size) if isinstance(size, int) else tuple(size)

    def corner(i: int, j: int) -> Callable:
        def crop(x):
            hh, ww = x.shape[-2], x.shape[-1]
            if hh < h or ww < w:
                raise ValueError(f"crop of size {(h, w)} is larger than the input's {(hh, ww)}")
            top = (0, hh - h, (hh - h) // 2)[i]
            left = (0, ww - w, (ww - w) // 2)[j]
            return x[..., top:top + h, left:left + w]
        crop.__name__ = f"crop_{('top', 'bottom', 'center')[i]}_{('left', 'right', 'center')[j]}"
        return crop

    return [corner(0, 0), corner(0, 1), corner(1, 0), corner(1, 1), corner(2, 2)]


def ten_crop_transforms(size) -> list:
    """AlexNet's evaluation: the five crops and their horizontal reflections."""
    crops = five_crop_transforms(size)

    def flipped(f: Callable) -> Callable:
        def g(x):
            return _hflip(f(x))
        g.__name__ = f.__name__ + "_flipped"
        return g

    return crops + [flipped(f) for f in crops]


def tta_predict(model: nn.Module, x, transforms: Sequence[Callable] | None = None, dim: int = 1):
    """Test-time augmentation: the average over ``transforms`` of ``softmax(model(t(x)), dim)``.

    ``x`` is a batch; each transform maps a batch to a batch (see ``flip_transforms``,
    ``five_crop_transforms``, ``ten_crop_transforms``). Runs without recording a graph; the model's
    mode (train/eval) is left as the caller set it.
    """
    from ... import no_grad
    transforms = list(transforms) if transforms is not None else flip_transforms()
    if not transforms:
        raise ValueError("tta_predict: transforms is empty")
    total = None
    with no_grad():
        for t in transforms:
            p = model(t(x)).softmax(dim)
            total = p if total is None else total + p
    return total / len(transforms)


class Ensemble(nn.Module):
    """Averages the predictions of several models: their softmax probabilities
    (``average="probs"``, the default), their log-probabilities (``"log_probs"``) or their raw
    outputs (``"logits"``)."""

    def __init__(self, models: Sequence[nn.Module], average: str = "probs", dim: int = 1) -> None:
        super().__init__()
        if average not in ("probs", "log_probs", "logits"):
            raise ValueError(f"Ensemble: average must be 'probs', 'log_probs' or 'logits', got {average!r}")
        models = list(models)
        if not models:
            raise ValueError("Ensemble needs at least one model")
        self.models = nn.ModuleList(models)
        self.average = average
        self.dim = dim

    def forward(self, x):
        total = None
        for m in self.models:
            y = m(x)
            if self.average == "probs":
                y = y.softmax(self.dim)
            elif self.average == "log_probs":
                y = y.log_softmax(self.dim)
            total = y if total is None else total + y
        return total / len(self.models)

    def extra_repr(self) -> str:
        return f"average={self.average!r}"
