"""Helpers shared by the model builders: the ``weights=`` policy, the registry behind
``get_model``/``list_models``, and input checks for fixed-size classifiers."""
from __future__ import annotations

from typing import Callable

__all__ = ["get_model", "list_models", "get_model_builder"]

_MODELS: dict[str, Callable] = {}


def register_model(fn: Callable) -> Callable:
    """Record a builder under its function name (what ``get_model`` accepts)."""
    _MODELS[fn.__name__] = fn
    return fn


def list_models() -> list[str]:
    """The names ``get_model`` accepts, sorted."""
    return sorted(_MODELS)


def get_model_builder(name: str) -> Callable:
    name = name.lower()
    if name not in _MODELS:
        raise ValueError(f"Unknown model {name!r}. The models ember has are: {', '.join(list_models())}")
    return _MODELS[name]


def get_model(name: str, **config):
    """Build a model by name, as ``torchvision.models.get_model``: ``get_model("resnet18", num_classes=10)``."""
    return get_model_builder(name)(**config)


def check_weights(name: str, weights, kwargs: dict) -> None:
    """ember ships no pretrained weights and never downloads: any ``weights`` (or the legacy
    ``pretrained=True``) is refused with the way to load PyTorch weights instead."""
    pretrained = kwargs.pop("pretrained", False)
    if pretrained:
        weights = "DEFAULT"
    if weights is not None:
        raise ValueError(
            f"{name}(weights={weights!r}): ember does not download pretrained weights. Build the model with "
            f"weights=None and load a checkpoint yourself: model.load_state_dict(ember.load(path)) (a state_dict "
            f"saved by torchvision's {name} has the same keys and shapes).")


def check_features(x, layer, layer_name: str, model_name: str, input_desc: str) -> None:
    """Fixed-size classifiers: say which layer got which shape and what it expects."""
    expected = layer.in_features
    got = x.shape[-1]
    if got != expected:
        raise RuntimeError(
            f"{model_name}: layer '{layer_name}' ({layer!r}) got an input of shape {list(x.shape)} but expects "
            f"{expected} features per sample; {model_name} takes inputs of size {input_desc}")
