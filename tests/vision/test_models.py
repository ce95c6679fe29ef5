"""ember.vision.models against torchvision's definitions and against the same architectures written
with torch.nn.

- Structure: for every model of ../shared/data/torchvision-models.json (torchvision 0.28's own
  definitions under torch 2.13) that ember has, the same state_dict keys in the same order with the
  same shapes, the same parameter count and the same repr().
- Function: LeNet5, AlexNet, VGG11, ResNet-18, ResNet-50, GoogLeNet and DenseNet-121 written below
  with torch.nn, given the same (random) weights and BatchNorm statistics through state_dict, give the
  same outputs as ember's models in eval mode.
"""
import gzip
import json
import os
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

import ember
from ember import nn
from ember.vision import models as M

from conftest import requires_torch, torch

_JSON_CANDIDATES = [Path(os.environ.get("EMBER_SHARED_DATA", "/nonexistent")) / "torchvision-models.json",
                    Path(__file__).resolve().parents[3] / "shared" / "data" / "torchvision-models.json",
                    Path("/work/shared/data/torchvision-models.json")]
_JSON = next((p for p in _JSON_CANDIDATES if p.exists()), None)
# a copy ships with the tests (../shared/data/torchvision-models.json, compacted and gzipped) so a clean
# clone on any machine checks the zoo; the shared original wins when present
_JSON_GZ = Path(__file__).resolve().parent / "data" / "torchvision-models.json.gz"
REFERENCE = json.loads(_JSON.read_text() if _JSON else gzip.decompress(_JSON_GZ.read_bytes()))["models"]
assert REFERENCE, "torchvision-models.json reference data is empty"   # it ships with the tests: never skip

STRUCTURE_CASES = [n for n in REFERENCE if n in M.list_models()]


@pytest.fixture
def no_init(monkeypatch):
    """Build big models quickly: skip the random initialisation (shapes and names don't depend on it)."""
    def skip(tensor, *args, **kwargs):
        return tensor
    for name in ("kaiming_normal_", "kaiming_uniform_", "normal_", "uniform_", "trunc_normal_", "xavier_uniform_",
                 "xavier_normal_"):
        monkeypatch.setattr(nn.init, name, skip, raising=False)
    for cls in (nn.Linear, nn.Conv2d):
        if hasattr(cls, "reset_parameters"):
            monkeypatch.setattr(cls, "reset_parameters", lambda self: None)


def test_reference_covers_the_course_models():
    have = set(M.list_models())
    for name in ["alexnet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
                 "googlenet", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d",
                 "resnext101_32x8d", "wide_resnet50_2", "densenet121", "densenet169"]:
        assert name in REFERENCE and name in have, name


@pytest.mark.parametrize("name", STRUCTURE_CASES)
def test_structure_matches_torchvision(name, no_init):
    ref = REFERENCE[name]
    model = M.get_model(name, **ref["constructor_kwargs"])
    got = [[k, list(v.shape)] for k, v in model.state_dict().items()]
    assert [k for k, _ in got] == [k for k, _ in ref["state_dict"]]
    assert got == ref["state_dict"]
    assert sum(p.numel() for p in model.parameters()) == ref["parameters"]
    assert repr(model) == ref["repr"]


def test_parameter_counts_of_the_notes(no_init):
    assert sum(p.numel() for p in M.alexnet().parameters()) == 61_100_840
    assert sum(p.numel() for p in M.vgg19().parameters()) == 143_667_240
    assert sum(p.numel() for p in M.resnet18().parameters()) == 11_689_512
    assert sum(p.numel() for p in M.course_mnist_net().parameters()) == 105_506


def test_initialisation_as_torchvision():
    m = M.resnet18()
    w = m.layer1[0].conv1.weight.detach().numpy()
    fan_out = 64 * 3 * 3
    assert abs(w.std() - np.sqrt(2.0 / fan_out)) < 0.1 * np.sqrt(2.0 / fan_out)   # kaiming_normal_, fan_out
    assert np.all(m.bn1.weight.detach().numpy() == 1) and np.all(m.bn1.bias.detach().numpy() == 0)
    z = M.resnet18(zero_init_residual=True)
    assert np.all(z.layer1[0].bn2.weight.detach().numpy() == 0)
    d = M.densenet121()
    assert np.all(d.classifier.bias.detach().numpy() == 0)


# --- the same architectures written with torch.nn ---------------------------------------------

if torch is not None:
    tnn = torch.nn
    tF = torch.nn.functional

    class TLeNet5(tnn.Module):
        def __init__(self, variant="modern"):
            super().__init__()
            if variant == "modern":
                self.features = tnn.Sequential(tnn.Conv2d(1, 6, 5), tnn.ReLU(), tnn.MaxPool2d(2),
                                               tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2))
                self.classifier = tnn.Sequential(tnn.Linear(256, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(),
                                                 tnn.Linear(84, 10))
            else:
                self.features = tnn.Sequential(tnn.Conv2d(1, 6, 5, padding=2), tnn.Tanh(), tnn.AvgPool2d(2),
                                               tnn.Conv2d(6, 16, 5), tnn.Tanh(), tnn.AvgPool2d(2),
                                               tnn.Conv2d(16, 120, 5), tnn.Tanh())
                self.classifier = tnn.Sequential(tnn.Linear(120, 84), tnn.Tanh(), tnn.Linear(84, 10))

        def forward(self, x):
            return self.classifier(torch.flatten(self.features(x), 1))

    class TCourseNet(tnn.Module):  # the notes' Net, verbatim
        def __init__(self):
            super().__init__()
            self.conv1 = tnn.Conv2d(1, 32, kernel_size=5)
            self.conv2 = tnn.Conv2d(32, 64, kernel_size=5)
            self.fc1 = tnn.Linear(256, 200)
            self.fc2 = tnn.Linear(200, 10)

        def forward(self, x):
            x = tF.relu(tF.max_pool2d(self.conv1(x), kernel_size=3, stride=3))
            x = tF.relu(tF.max_pool2d(self.conv2(x), kernel_size=2, stride=2))
            x = x.view(-1, 256)
            x = tF.relu(self.fc1(x))
            return self.fc2(x)

    class TAlexNet(tnn.Module):
        def __init__(self):
            super().__init__()
            self.features = tnn.Sequential(
                tnn.Conv2d(3, 64, 11, 4, 2), tnn.ReLU(inplace=True), tnn.MaxPool2d(3, 2),
                tnn.Conv2d(64, 192, 5, padding=2), tnn.ReLU(inplace=True), tnn.MaxPool2d(3, 2),
                tnn.Conv2d(192, 384, 3, padding=1), tnn.ReLU(inplace=True),
                tnn.Conv2d(384, 256, 3, padding=1), tnn.ReLU(inplace=True),
                tnn.Conv2d(256, 256, 3, padding=1), tnn.ReLU(inplace=True), tnn.MaxPool2d(3, 2))
            self.avgpool = tnn.AdaptiveAvgPool2d((6, 6))
            self.classifier = tnn.Sequential(
                tnn.Dropout(), tnn.Linear(9216, 4096), tnn.ReLU(inplace=True), tnn.Dropout(),
                tnn.Linear(4096, 4096), tnn.ReLU(inplace=True), tnn.Linear(4096, 1000))

        def forward(self, x):
            return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))

    class TVGG11(tnn.Module):
        def __init__(self):
            super().__init__()
            layers, c = [], 3
            for v in [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]:
                if v == "M":
                    layers.append(tnn.MaxPool2d(2, 2))
                else:
                    layers += [tnn.Conv2d(c, v, 3, padding=1), tnn.ReLU(inplace=True)]
                    c = v
            self.features = tnn.Sequential(*layers)
            self.avgpool = tnn.AdaptiveAvgPool2d((7, 7))
            self.classifier = tnn.Sequential(
                tnn.Linear(25088, 4096), tnn.ReLU(True), tnn.Dropout(), tnn.Linear(4096, 4096), tnn.ReLU(True),
                tnn.Dropout(), tnn.Linear(4096, 1000))

        def forward(self, x):
            return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))

    class TBasic(tnn.Module):
        expansion = 1

        def __init__(self, cin, planes, stride, down):
            super().__init__()
            self.conv1 = tnn.Conv2d(cin, planes, 3, stride, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(planes)
            self.relu = tnn.ReLU(inplace=True)
            self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(planes)
            self.downsample = down

        def forward(self, x):
            idt = x if self.downsample is None else self.downsample(x)
            out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
            return self.relu(out + idt)

    class TBottle(tnn.Module):
        expansion = 4

        def __init__(self, cin, planes, stride, down):
            super().__init__()
            self.conv1 = tnn.Conv2d(cin, planes, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(planes)
            self.conv2 = tnn.Conv2d(planes, planes, 3, stride, 1, bias=False)   # v1.5: stride on the 3x3
            self.bn2 = tnn.BatchNorm2d(planes)
            self.conv3 = tnn.Conv2d(planes, planes * 4, 1, bias=False)
            self.bn3 = tnn.BatchNorm2d(planes * 4)
            self.relu = tnn.ReLU(inplace=True)
            self.downsample = down

        def forward(self, x):
            idt = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.relu(self.bn2(self.conv2(out)))
            out = self.bn3(self.conv3(out))
            return self.relu(out + idt)

    class TResNet(tnn.Module):
        def __init__(self, block, layers):
            super().__init__()
            self.conv1 = tnn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = tnn.BatchNorm2d(64)
            self.relu = tnn.ReLU(inplace=True)
            self.maxpool = tnn.MaxPool2d(3, 2, 1)
            cin = 64
            for i, (planes, n) in enumerate(zip([64, 128, 256, 512], layers)):
                stride = 1 if i == 0 else 2
                blocks = []
                for j in range(n):
                    down = None
                    if j == 0 and (stride != 1 or cin != planes * block.expansion):
                        down = tnn.Sequential(tnn.Conv2d(cin, planes * block.expansion, 1, stride, bias=False),
                                              tnn.BatchNorm2d(planes * block.expansion))
                    blocks.append(block(cin, planes, stride if j == 0 else 1, down))
                    cin = planes * block.expansion
                setattr(self, f"layer{i + 1}", tnn.Sequential(*blocks))
            self.avgpool = tnn.AdaptiveAvgPool2d(1)
            self.fc = tnn.Linear(cin, 1000)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    class TBasicConv(tnn.Module):
        def __init__(self, cin, cout, **kw):
            super().__init__()
            self.conv = tnn.Conv2d(cin, cout, bias=False, **kw)
            self.bn = tnn.BatchNorm2d(cout, eps=0.001)

        def forward(self, x):
            return tF.relu(self.bn(self.conv(x)))

    class TInception(tnn.Module):
        def __init__(self, cin, c1, c3r, c3, c5r, c5, pp):
            super().__init__()
            self.branch1 = TBasicConv(cin, c1, kernel_size=1)
            self.branch2 = tnn.Sequential(TBasicConv(cin, c3r, kernel_size=1), TBasicConv(c3r, c3, kernel_size=3,
                                                                                          padding=1))
            self.branch3 = tnn.Sequential(TBasicConv(cin, c5r, kernel_size=1), TBasicConv(c5r, c5, kernel_size=3,
                                                                                          padding=1))
            self.branch4 = tnn.Sequential(tnn.MaxPool2d(3, 1, 1, ceil_mode=True), TBasicConv(cin, pp, kernel_size=1))

        def forward(self, x):
            return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)

    class TGoogLeNet(tnn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = TBasicConv(3, 64, kernel_size=7, stride=2, padding=3)
            self.maxpool1 = tnn.MaxPool2d(3, 2, ceil_mode=True)
            self.conv2 = TBasicConv(64, 64, kernel_size=1)
            self.conv3 = TBasicConv(64, 192, kernel_size=3, padding=1)
            self.maxpool2 = tnn.MaxPool2d(3, 2, ceil_mode=True)
            self.inception3a = TInception(192, 64, 96, 128, 16, 32, 32)
            self.inception3b = TInception(256, 128, 128, 192, 32, 96, 64)
            self.maxpool3 = tnn.MaxPool2d(3, 2, ceil_mode=True)
            self.inception4a = TInception(480, 192, 96, 208, 16, 48, 64)
            self.inception4b = TInception(512, 160, 112, 224, 24, 64, 64)
            self.inception4c = TInception(512, 128, 128, 256, 24, 64, 64)
            self.inception4d = TInception(512, 112, 144, 288, 32, 64, 64)
            self.inception4e = TInception(528, 256, 160, 320, 32, 128, 128)
            self.maxpool4 = tnn.MaxPool2d(2, 2, ceil_mode=True)
            self.inception5a = TInception(832, 256, 160, 320, 32, 128, 128)
            self.inception5b = TInception(832, 384, 192, 384, 48, 128, 128)
            self.avgpool = tnn.AdaptiveAvgPool2d(1)
            self.dropout = tnn.Dropout(0.2)
            self.fc = tnn.Linear(1024, 1000)

        def forward(self, x):
            for name in ["conv1", "maxpool1", "conv2", "conv3", "maxpool2", "inception3a", "inception3b", "maxpool3",
                         "inception4a", "inception4b", "inception4c", "inception4d", "inception4e", "maxpool4",
                         "inception5a", "inception5b", "avgpool"]:
                x = getattr(self, name)(x)
            return self.fc(self.dropout(torch.flatten(x, 1)))

    class TDenseLayer(tnn.Module):
        def __init__(self, cin, growth, bn_size):
            super().__init__()
            self.norm1 = tnn.BatchNorm2d(cin)
            self.relu1 = tnn.ReLU(inplace=True)
            self.conv1 = tnn.Conv2d(cin, bn_size * growth, 1, bias=False)
            self.norm2 = tnn.BatchNorm2d(bn_size * growth)
            self.relu2 = tnn.ReLU(inplace=True)
            self.conv2 = tnn.Conv2d(bn_size * growth, growth, 3, padding=1, bias=False)

        def forward(self, feats):
            x = self.conv1(self.relu1(self.norm1(torch.cat(feats, 1))))
            return self.conv2(self.relu2(self.norm2(x)))

    class TDenseBlock(tnn.ModuleDict):
        def __init__(self, n, cin, growth):
            super().__init__()
            for i in range(n):
                self.add_module(f"denselayer{i + 1}", TDenseLayer(cin + i * growth, growth, 4))

        def forward(self, x):
            feats = [x]
            for layer in self.values():
                feats.append(layer(feats))
            return torch.cat(feats, 1)

    class TDenseNet121(tnn.Module):
        def __init__(self):
            super().__init__()
            self.features = tnn.Sequential(OrderedDict([
                ("conv0", tnn.Conv2d(3, 64, 7, 2, 3, bias=False)), ("norm0", tnn.BatchNorm2d(64)),
                ("relu0", tnn.ReLU(inplace=True)), ("pool0", tnn.MaxPool2d(3, 2, 1))]))
            c = 64
            for i, n in enumerate((6, 12, 24, 16)):
                self.features.add_module(f"denseblock{i + 1}", TDenseBlock(n, c, 32))
                c += n * 32
                if i != 3:
                    self.features.add_module(f"transition{i + 1}", tnn.Sequential(OrderedDict([
                        ("norm", tnn.BatchNorm2d(c)), ("relu", tnn.ReLU(inplace=True)),
                        ("conv", tnn.Conv2d(c, c // 2, 1, bias=False)), ("pool", tnn.AvgPool2d(2, 2))])))
                    c //= 2
            self.features.add_module("norm5", tnn.BatchNorm2d(c))
            self.classifier = tnn.Linear(c, 1000)

        def forward(self, x):
            x = tF.adaptive_avg_pool2d(tF.relu(self.features(x)), 1)
            return self.classifier(torch.flatten(x, 1))


def _randomize(tmodel):
    """Random weights and BatchNorm statistics, so eval-mode BN is exercised."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, t in tmodel.state_dict().items():
            if not t.is_floating_point():
                continue
            if name.endswith("running_var"):
                t.copy_(torch.rand(t.shape, generator=g) + 0.5)
            elif name.endswith("running_mean") or name.endswith("bias"):
                t.copy_(torch.randn(t.shape, generator=g) * 0.1)
            elif name.endswith("weight") and t.dim() == 1:   # BN scale
                t.copy_(torch.rand(t.shape, generator=g) + 0.5)
            else:                                            # conv/linear: keep activations O(1)
                fan_in = t[0].numel()
                t.copy_(torch.randn(t.shape, generator=g) * np.sqrt(2.0 / fan_in))


def _load_into_ember(emodel, tmodel):
    sd = OrderedDict((k, ember.from_numpy(v.detach().numpy().copy())) for k, v in tmodel.state_dict().items())
    emodel.load_state_dict(sd)


FORWARD_CASES = [
    # name, ember builder, torch builder, input shape, slow?
    ("lenet5", lambda: M.lenet5(), lambda: TLeNet5(), (2, 1, 28, 28), False),
    ("lenet5_classic", lambda: M.lenet5(variant="classic"), lambda: TLeNet5("classic"), (2, 1, 28, 28), False),
    ("course_mnist_net", lambda: M.course_mnist_net(), lambda: TCourseNet(), (2, 1, 28, 28), False),
    ("alexnet", lambda: M.alexnet(), lambda: TAlexNet(), (1, 3, 96, 96), False),
    ("vgg11", lambda: M.vgg11(), lambda: TVGG11(), (1, 3, 32, 32), True),
    ("resnet18", lambda: M.resnet18(), lambda: TResNet(TBasic, [2, 2, 2, 2]), (2, 3, 64, 64), False),
    ("resnet50", lambda: M.resnet50(), lambda: TResNet(TBottle, [3, 4, 6, 3]), (1, 3, 64, 64), True),
    ("googlenet", lambda: M.googlenet(aux_logits=False, init_weights=False), lambda: TGoogLeNet(), (1, 3, 64, 64),
     True),
    ("densenet121", lambda: M.densenet121(), lambda: TDenseNet121(), (1, 3, 64, 64), True),
]


@requires_torch
@pytest.mark.parametrize("case", [pytest.param(c, id=c[0], marks=pytest.mark.slow if c[4] else ())
                                  for c in FORWARD_CASES])
def test_same_outputs_as_torch(case):
    name, ebuild, tbuild, shape, _ = case
    tmodel = tbuild().eval()
    _randomize(tmodel)
    emodel = ebuild().eval()
    _load_into_ember(emodel, tmodel)
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    with torch.no_grad():
        expected = tmodel(torch.from_numpy(x)).numpy()
    with ember.no_grad():
        got = emodel(ember.from_numpy(x))
    got = got.numpy()
    assert got.shape == expected.shape and got.dtype == np.float32
    scale = max(np.abs(expected).max(), 1e-6)
    assert np.abs(got - expected).max() <= 1e-4 * scale, name


@requires_torch
def test_torch_state_dict_round_trip():
    """A state_dict saved by torch's version of the notes' Net loads into the course network and back."""
    t = TCourseNet()
    e = M.course_mnist_net()
    _load_into_ember(e, t)
    back = {k: torch.from_numpy(v.numpy().copy()) for k, v in e.state_dict().items()}
    t2 = TCourseNet()
    t2.load_state_dict(back)
    for k, v in t.state_dict().items():
        assert torch.equal(v, t2.state_dict()[k])


# --- ember's own variants ---------------------------------------------------------------------

@pytest.mark.parametrize("name,shape,classes", [
    ("course_mnist_net", (2, 1, 28, 28), 10), ("lenet5", (2, 1, 28, 28), 10), ("nin", (2, 3, 32, 32), 10),
    ("alexnet_cifar", (2, 3, 32, 32), 10), ("vgg13_cifar", (2, 3, 32, 32), 10), ("resnet18_cifar", (2, 3, 32, 32), 10),
    pytest.param("preact_resnet18", (2, 3, 32, 32), 1000, marks=pytest.mark.slow),
    pytest.param("se_resnet18", (2, 3, 32, 32), 1000, marks=pytest.mark.slow),
    pytest.param("se_resnet50", (1, 3, 32, 32), 1000, marks=pytest.mark.slow),
    pytest.param("preact_resnet50", (1, 3, 32, 32), 1000, marks=pytest.mark.slow),
])
def test_variants_run(name, shape, classes):
    m = M.get_model(name).eval()
    with ember.no_grad():
        y = m(ember.randn(*shape))
    assert tuple(y.shape) == (shape[0], classes)


def test_variant_structures(no_init):
    v1, v15 = M.resnet50(variant="v1"), M.resnet50()
    assert v1.layer2[0].conv1.stride == (2, 2) and v1.layer2[0].conv2.stride == (1, 1)
    assert v15.layer2[0].conv1.stride == (1, 1) and v15.layer2[0].conv2.stride == (2, 2)
    assert list(v1.state_dict()) == list(v15.state_dict())
    c = M.resnet18_cifar()
    assert c.conv1.kernel_size == (3, 3) and c.conv1.stride == (1, 1) and isinstance(c.maxpool, nn.Identity)
    se = M.se_resnet50()
    assert se.layer1[0].se.fc[0].weight.shape == (256 // 16, 256)
    pre = M.preact_resnet18()
    assert "bn_final.weight" in pre.state_dict()
    n = M.nin()
    pools = [m for m in n.modules() if isinstance(m, nn.MaxPool2d)]
    assert pools and all(p.ceil_mode for p in pools)
    assert sum(p.numel() for p in M.resnext50_32x4d().parameters()) == 25_028_904
    assert sum(p.numel() for p in M.wide_resnet50_2().parameters()) == 68_883_240


def test_googlenet_aux_logits_in_training():
    g = M.googlenet(init_weights=False)       # aux_logits=True by default
    g.train()
    out = g(ember.randn(2, 3, 64, 64))
    assert type(out).__name__ == "GoogLeNetOutputs"
    assert [tuple(o.shape) for o in out] == [(2, 1000)] * 3
    g.eval()
    with ember.no_grad():
        assert tuple(g(ember.randn(1, 3, 64, 64)).shape) == (1, 1000)


def test_nin_ceil_mode_sizes():
    feats = M.nin().features
    x = ember.zeros(1, 3, 32, 32)
    sizes = []
    with ember.no_grad():
        for m in feats:
            x = m(x)
            if isinstance(m, nn.MaxPool2d):
                sizes.append(tuple(x.shape[2:]))
    assert sizes == [(16, 16), (8, 8)]


# --- bad input ----------------------------------------------------------------------------------

def test_unknown_model_lists_the_valid_ones():
    with pytest.raises(ValueError) as e:
        M.get_model("resnet17")
    msg = str(e.value)
    assert "resnet17" in msg and "resnet18" in msg and "course_mnist_net" in msg and "densenet121" in msg


def test_weights_are_not_downloaded():
    with pytest.raises(ValueError, match="does not download"):
        M.resnet18(weights="IMAGENET1K_V1")
    with pytest.raises(ValueError, match="does not download"):
        M.alexnet(pretrained=True)


def test_wrong_input_size_names_the_layer():
    with pytest.raises(RuntimeError) as e:
        M.lenet5()(ember.randn(1, 1, 32, 32))
    msg = str(e.value)
    assert "classifier.0" in msg and "256" in msg and "400" in msg and "1x28x28" in msg
    with pytest.raises(RuntimeError, match="fc1"):
        M.course_mnist_net()(ember.randn(1, 1, 24, 24))


# --- convolutionize, test-time augmentation, ensembles -------------------------------------------

@pytest.fixture(scope="module")
def alexnet_pair():
    ember.manual_seed(0)
    a = M.alexnet().eval()
    conv = nn.Sequential(*M.convolutionize(list(a.features) + list(a.classifier), (3, 224, 224))).eval()
    return a, conv


def test_convolutionize_alexnet_structure(alexnet_pair):
    _, conv = alexnet_pair
    convs = [m for m in conv if isinstance(m, nn.Conv2d)]
    assert not any(isinstance(m, nn.Linear) for m in conv)
    assert [c.kernel_size for c in convs[-3:]] == [(6, 6), (1, 1), (1, 1)]
    assert convs[-3].in_channels == 256 and convs[-3].out_channels == 4096 and convs[-1].out_channels == 1000


def test_convolutionize_alexnet_scores(alexnet_pair):
    a, conv = alexnet_pair
    x = ember.randn(1, 3, 224, 224)
    with ember.no_grad():
        ref = a(x).numpy()
        got = conv(x)
        assert tuple(got.shape) == (1, 1000, 1, 1)
        np.testing.assert_allclose(got.numpy().reshape(1, 1000), ref, atol=1e-4 * np.abs(ref).max(), rtol=0)
        big = conv(ember.randn(1, 3, 256, 256))
    assert tuple(big.shape) == (1, 1000, 2, 2)   # a 2x2 map of class scores


def test_convolutionize_small_net_equals_original():
    net = M.lenet5().eval()
    conv = nn.Sequential(*M.convolutionize(list(net.features) + list(net.classifier), (1, 28, 28))).eval()
    x = ember.randn(3, 1, 28, 28)
    with ember.no_grad():
        np.testing.assert_allclose(conv(x).numpy().reshape(3, 10), net(x).numpy(), atol=1e-5, rtol=1e-5)
        # 36x36: features are 16x6x6, the first linear layer (now a 4x4 conv) gives a 3x3 score map
        assert tuple(conv(ember.randn(1, 1, 36, 36)).shape) == (1, 10, 3, 3)
    with pytest.raises(ValueError, match="expects 256 features"):
        M.convolutionize(list(net.features) + list(net.classifier), (1, 32, 32))


@requires_torch
def test_tta_matches_manual_torch_average():
    e = M.lenet5().eval()
    t = TLeNet5().eval()
    _randomize(t)
    _load_into_ember(e, t)
    x = np.random.default_rng(3).standard_normal((2, 1, 32, 32)).astype(np.float32)
    got = M.tta_predict(e, ember.from_numpy(x), M.ten_crop_transforms(28)).numpy()
    xt = torch.from_numpy(x)
    crops = [xt[..., :28, :28], xt[..., :28, 4:], xt[..., 4:, :28], xt[..., 4:, 4:], xt[..., 2:30, 2:30]]
    crops += [c.flip(-1) for c in crops]
    with torch.no_grad():
        expected = torch.stack([t(c).softmax(1) for c in crops]).mean(0).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-5)
    np.testing.assert_allclose(got.sum(1), 1, atol=1e-5)
    flip = M.tta_predict(e, ember.from_numpy(x[..., 2:30, 2:30].copy()))   # default: identity + flip
    assert tuple(flip.shape) == (2, 10)


def test_ensemble_averages():
    a, b = M.lenet5().eval(), M.lenet5().eval()
    ens = M.Ensemble([a, b]).eval()
    assert isinstance(ens, nn.Module) and len(list(ens.parameters())) == 2 * len(list(a.parameters()))
    x = ember.randn(4, 1, 28, 28)
    with ember.no_grad():
        pa, pb = a(x).softmax(1).numpy(), b(x).softmax(1).numpy()
        np.testing.assert_allclose(ens(x).numpy(), (pa + pb) / 2, atol=1e-6)
        logits = M.Ensemble([a, b], average="logits")(x).numpy()
        np.testing.assert_allclose(logits, (a(x).numpy() + b(x).numpy()) / 2, atol=1e-5)
    with pytest.raises(ValueError):
        M.Ensemble([])


@requires_torch
@pytest.mark.slow
def test_training_mode_gradients_as_torch():
    """Train mode (batch statistics, in-place residual additions and ReLUs): same outputs, parameter
    gradients (random grad_output) and updated running statistics as torch, in float64."""
    t = TResNet(TBasic, [2, 2, 2, 2]).double()
    _randomize(t)
    e = M.resnet18().double()
    _load_into_ember(e, t)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 32, 32))
    yt = t(torch.from_numpy(x))
    g = rng.standard_normal(tuple(yt.shape))
    (yt * torch.from_numpy(g)).sum().backward()
    ye = e(ember.from_numpy(x))
    (ye * ember.from_numpy(g)).sum().backward()
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-9, atol=1e-9)
    tparams = dict(t.named_parameters())
    for name, p in e.named_parameters():
        tg = tparams[name].grad.numpy()
        np.testing.assert_allclose(p.grad.numpy(), tg, rtol=1e-6, atol=1e-8 * np.abs(tg).max(), err_msg=name)
    tbufs = dict(t.named_buffers())
    for name, b in e.named_buffers():
        np.testing.assert_allclose(b.numpy(), tbufs[name].numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


def test_convolutionize_as_the_notes_write_it():
    """The notes' code, verbatim with ``import ember as torch``, gives the same layers as ours."""
    torch_ = ember

    def convolutionize(layers, input_size):
        result_layers = []
        x = torch_.zeros((1, ) + input_size)
        for m in layers:
            if isinstance(m, torch_.nn.Linear):
                n = torch_.nn.Conv2d(in_channels=x.size(1), out_channels=m.weight.size(0),
                                     kernel_size=(x.size(2), x.size(3)))
                with torch_.no_grad():
                    n.weight.view(-1).copy_(m.weight.view(-1))
                    n.bias.view(-1).copy_(m.bias.view(-1))
                m = n
            result_layers.append(m)
            x = m(x)
        return result_layers

    net = M.lenet5().eval()
    layers = list(net.features) + list(net.classifier)
    notes = nn.Sequential(*convolutionize(layers, (1, 28, 28))).eval()
    ours = nn.Sequential(*M.convolutionize(layers, (1, 28, 28))).eval()
    assert repr(notes) == repr(ours)
    x = ember.randn(2, 1, 40, 40)
    with ember.no_grad():
        np.testing.assert_array_equal(notes(x).numpy(), ours(x).numpy())
