"""Conv and pooling layers: reprs, parameter names/shapes, default init statistics and outputs vs torch."""
import numpy as np
import pytest
import torch

import ember
from tests.conftest import assert_close

LAYERS = [
    ("Conv2d", (3, 8, 3), {}),
    ("Conv2d", (4, 6, (2, 3)), dict(stride=(2, 1), padding=1, dilation=2, groups=2, bias=False)),
    ("Conv2d", (3, 4, 3), dict(padding="same", padding_mode="reflect")),
    ("Conv2d", (3, 4, 3), dict(padding=1, padding_mode="circular")),
    ("Conv1d", (2, 4, 5), dict(stride=2)),
    ("Conv3d", (2, 3, 3), dict(padding=1)),
    ("ConvTranspose2d", (4, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ("MaxPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True)),
    ("MaxPool2d", (2,), {}),
    ("MaxPool1d", (2,), {}),
    ("AvgPool2d", (3,), dict(stride=2, padding=1)),
    ("AvgPool1d", (3,), {}),
    ("AdaptiveAvgPool2d", ((6, 6),), {}),
    ("AdaptiveAvgPool2d", (1,), {}),
    ("AdaptiveMaxPool2d", (2,), {}),
    ("LPPool2d", (2, 3), dict(stride=2)),
]


@pytest.mark.parametrize("name,args,kwargs", LAYERS)
def test_layer_matches_torch(name, args, kwargs):
    e = getattr(ember.nn, name)(*args, **kwargs)
    t = getattr(torch.nn, name)(*args, **kwargs)
    assert repr(e) == repr(t)
    assert [(k, tuple(v.shape)) for k, v in e.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in t.state_dict().items()]
    with torch.no_grad():
        for k, v in t.state_dict().items():
            v.copy_(torch.from_numpy(e.state_dict()[k].numpy().copy()))
    if name.endswith("1d"):
        x = np.random.default_rng(0).standard_normal((2, 2, 12)).astype(np.float32)
    elif name == "Conv3d":
        x = np.random.default_rng(0).standard_normal((1, 2, 6, 6, 6)).astype(np.float32)
    else:
        c = e.in_channels if hasattr(e, "in_channels") else 3
        x = np.abs(np.random.default_rng(0).standard_normal((2, c, 11, 12)).astype(np.float32))
    assert_close(e(ember.from_numpy(x.copy())), t(torch.from_numpy(x.copy())), rtol=1e-4, atol=1e-5)


def test_conv_default_init_statistics():
    ember.manual_seed(1)
    e = ember.nn.Conv2d(64, 128, 3)
    t = torch.nn.Conv2d(64, 128, 3)
    bound = 1 / np.sqrt(64 * 9)  # kaiming_uniform_(a=sqrt(5)) on fan_in 576
    w = e.weight.detach().numpy()
    assert np.abs(w).max() <= bound + 1e-7
    assert abs(w.std() - t.weight.detach().numpy().std()) < 0.02 * bound * 10
    assert abs(w.mean()) < 3 * bound / np.sqrt(w.size) * 2
    assert np.abs(e.bias.detach().numpy()).max() <= bound + 1e-7


def test_conv_bad_channels_message():
    conv = ember.nn.Conv2d(1, 32, 5)
    with pytest.raises(RuntimeError, match=r"expected input\[100, 3, 28, 28\] to have 1 channels"):
        conv(ember.randn(100, 3, 28, 28))
