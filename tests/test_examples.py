"""Every program in examples/ runs with ``--dry-run`` under ``ember run`` and, where PyTorch (and,
for the vision ones, torchvision) is installed, under ``python`` with real PyTorch; the lines that
do not depend on the random number generator (shapes, parameter counts, data statistics, losses
from fixed weights) must agree.

Without torchvision, the vision examples' model definitions are still checked against PyTorch: the
example file is imported under real torch with a stand-in ``torchvision`` module (the classes
themselves use only torch), and the parameter counts and shapes ember printed are compared with
what PyTorch computes for the same classes.
"""
import gzip
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import types

import pytest

from conftest import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")
NUMBER = re.compile(r"[-+]?\d+\.\d+(?:e[-+]?\d+)?")

try:
    import torchvision  # noqa: F401
    HAVE_TORCHVISION = torch is not None
except ImportError:
    HAVE_TORCHVISION = False


def _env():
    env = dict(os.environ)
    env.pop("EMBER_TORCH_ALIAS", None)
    env["PYTHONHASHSEED"] = "0"
    return env


def run(example, args, cwd, ember=True, timeout=240):
    script = os.path.join(EXAMPLES, example)
    cmd = [sys.executable, "-m", "ember", "run", script, *args] if ember else [sys.executable, script, *args]
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=_env())
    assert p.returncode == 0, f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}"
    return p.stdout


def lines_with(output, prefixes):
    return [line for line in output.splitlines() if line.startswith(prefixes)]


def same_lines(a, b, rtol=1e-4, atol=1e-5):
    """Lines equal as text outside the decimal numbers, and the numbers equal within tolerance."""
    assert len(a) == len(b), (a, b)
    for x, y in zip(a, b):
        assert NUMBER.sub("#", x) == NUMBER.sub("#", y), (x, y)
        for u, v in zip(NUMBER.findall(x), NUMBER.findall(y)):
            assert float(u) == pytest.approx(float(v), rel=rtol, abs=atol), (x, y)


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    """torchvision's on-disk layout (root/FashionMNIST/raw/*-ubyte) holding ember's shipped sample, so
    neither library downloads anything and both read the same images."""
    from ember.vision.datasets.mnist import SAMPLE_DIR
    root = tmp_path_factory.mktemp("data")
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        with gzip.open(os.path.join(SAMPLE_DIR, name + ".gz")) as src, open(raw / name, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return str(root)


def import_under_torch(example):
    """The example module imported with real PyTorch and a stand-in torchvision (classes only)."""
    stub = types.ModuleType("torchvision")
    parts = {name: types.ModuleType(f"torchvision.{name}") for name in ("datasets", "transforms", "utils", "models")}
    parts["utils"].save_image = None
    for name, module in parts.items():
        setattr(stub, name, module)
    saved = {k: sys.modules.get(k) for k in ["torchvision", *[f"torchvision.{n}" for n in parts]]}
    sys.modules["torchvision"] = stub
    sys.modules.update({f"torchvision.{n}": m for n, m in parts.items()})
    try:
        spec = importlib.util.spec_from_file_location(f"_example_{example[:-3]}", os.path.join(EXAMPLES, example))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def test_every_example_is_tested():
    names = sorted(f for f in os.listdir(EXAMPLES) if f.endswith(".py"))
    assert names == sorted(["mnist_cnn.py", "vae.py", "dcgan.py", "regression.py", "hogwild.py", "siamese.py"])
    for name in names:
        text = open(os.path.join(EXAMPLES, name)).read()
        assert "import torch\n" in text
        assert not re.search(r"^\s*(import|from)\s+ember", text, re.M), f"{name} imports ember directly"
        assert "--dry-run" in text and "--epochs" in text


# ---- examples that need only torch: run under both and compare ------------------------------------

REGRESSION_LINES = ("target:", "features:", "grid loss at zero weights:", "grid loss after one step:")


def test_regression(tmp_path):
    out = run("regression.py", ["--dry-run"], tmp_path)
    fixed = lines_with(out, REGRESSION_LINES)
    assert fixed[0] == "target:   y = +0.25 +0.50 x^1 -1.20 x^2 +0.80 x^3 +0.30 x^4"
    assert fixed[1] == "features: (21, 4), targets: (21, 1)"
    assert len(lines_with(out, "step ")) == 5 and "learned:" in out
    if torch is not None:
        same_lines(fixed, lines_with(run("regression.py", ["--dry-run"], tmp_path, ember=False), REGRESSION_LINES))


HOGWILD_LINES = ("data:", "model:", "processes:", "updates per process:", "weights changed",
                 "every process saw")


def test_hogwild_two_processes_update_one_set_of_weights(tmp_path):
    """Two processes train one model whose parameters are in shared memory: both made updates, the
    parent's weights changed, and each process, after both finished, saw exactly the parent's
    final weights (so they were all updating the same memory)."""
    out = run("hogwild.py", ["--dry-run", "--num-processes", "2"], tmp_path)
    assert lines_with(out, HOGWILD_LINES) == [
        "data: (600, 2) points, 3 classes",
        "model: 4547 parameters, shared: True",
        "processes: 2, exit codes [0, 0]",
        "updates per process: [4, 4]",
        "weights changed in the parent: True",
        "every process saw the parent's final weights: True",
    ]
    assert len(lines_with(out, ("process 0:", "process 1:"))) == 2
    if torch is not None:
        # fork: children of a torch process skip re-importing torch (the lines compared do not depend on it)
        ref = run("hogwild.py", ["--dry-run", "--num-processes", "2", "--start-method", "fork"], tmp_path,
                  ember=False)
        assert lines_with(ref, HOGWILD_LINES) == lines_with(out, HOGWILD_LINES)


@pytest.mark.slow
def test_hogwild_with_fork(tmp_path):
    out = run("hogwild.py", ["--dry-run", "--start-method", "fork"], tmp_path)
    assert "updates per process: [4, 4]" in out and "every process saw the parent's final weights: True" in out


# ---- vision examples ---------------------------------------------------------------------------

def compare_with_torchvision(example, args, tmp_path, prefixes, out):
    if HAVE_TORCHVISION:
        same_lines(lines_with(out, prefixes), lines_with(run(example, args, tmp_path, ember=False), prefixes))


MNIST_LINES = ("device:", "datasets:", "first test image:", "model:")


def test_mnist_cnn(tmp_path, data_root):
    args = ["--dry-run", "--data", data_root]
    out = run("mnist_cnn.py", args, tmp_path)
    head = lines_with(out, MNIST_LINES)
    assert head[:2] == ["device: cpu",
                        "datasets: 5800 train / 1000 test images, classes ['T-shirt/top', 'Trouser', 'Pullover']..."]
    assert re.fullmatch(r"first test image: shape \(1, 28, 28\), label 9, mean -0\.3361", head[2])
    assert len(lines_with(out, "Train epoch 1 [")) == 3 and "Test: average loss" in out
    assert "next lr 0.7000" in out  # StepLR(gamma=0.7) after one epoch of Adadelta(lr=1.0)
    if torch is not None:
        net = import_under_torch("mnist_cnn.py").FashionNet()
        assert head[3] == f"model: {n_params(net)} trainable parameters"
        assert tuple(net(torch.zeros(2, 1, 28, 28)).shape) == (2, 10)
    compare_with_torchvision("mnist_cnn.py", args, tmp_path, MNIST_LINES, out)


def _png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def test_vae(tmp_path, data_root):
    args = ["--dry-run", "--data", data_root, "--out", str(tmp_path / "results")]
    out = run("vae.py", args, tmp_path)
    assert "test batch: (128, 1, 28, 28), pixel range [0.0, 1.0]" in out
    assert len(lines_with(out, "Train epoch 1 [")) == 3
    # save_image grids as torchvision lays them out: nrow images a row, 2-pixel padding
    assert _png_size(tmp_path / "results" / "sample_1.png") == (8 * 30 + 2, 8 * 30 + 2)
    assert _png_size(tmp_path / "results" / "reconstruction_1.png") == (8 * 30 + 2, 2 * 30 + 2)
    if torch is not None:
        vae = import_under_torch("vae.py")
        model = vae.VAE(latent=16)
        assert lines_with(out, "model:") == [f"model: {n_params(model)} parameters, latent size 16"]
        recon, mu, logvar = model(torch.rand(3, 1, 28, 28))
        assert (tuple(recon.shape), tuple(mu.shape)) == ((3, 784), (3, 16))
    compare_with_torchvision("vae.py", args, tmp_path, ("model:", "test batch:"), out)


def test_dcgan(tmp_path):
    args = ["--dry-run", "--out", str(tmp_path / "gan")]
    out = run("dcgan.py", args, tmp_path)
    assert "fake batch: (16, 3, 32, 32), discriminator output: (16,)" in out
    assert len(lines_with(out, "[0/1][")) == 2
    assert _png_size(tmp_path / "gan" / "fake_samples_epoch_000.png") == (4 * 34 + 2, 4 * 34 + 2)
    assert _png_size(tmp_path / "gan" / "real_samples.png")[0] == 8 * 34 + 2
    import ember
    state = ember.load(tmp_path / "gan" / "netG_epoch_0.pth")
    assert "main.0.weight" in state and tuple(state["main.0.weight"].shape) == (64, 128, 4, 4)
    if torch is not None:
        dcgan = import_under_torch("dcgan.py")
        g, d = dcgan.Generator(64, 32, 3), dcgan.Discriminator(32, 3)
        assert lines_with(out, ("generator:", "discriminator:")) == [
            f"generator: {n_params(g)} parameters", f"discriminator: {n_params(d)} parameters"]
        assert tuple(d(g(torch.zeros(16, 64, 1, 1))).shape) == (16,)
    compare_with_torchvision("dcgan.py", args, tmp_path, ("generator:", "discriminator:", "fake batch:"), out)


def test_siamese(tmp_path, data_root):
    args = ["--dry-run", "--data", data_root]
    out = run("siamese.py", args, tmp_path)
    assert "pairs: 400 train / 80 test, 200 same-class in train" in out
    # torchvision's resnet18 has 11,689,512 parameters; the example swaps the 3-channel 7x7 stem for a
    # 1-channel one (-2 * 64 * 49) and the 1000-way fc for a 128-d embedding, and adds a 16,513-parameter head
    backbone = 11_689_512 - 2 * 64 * 49 - (512 * 1000 + 1000) + (512 * 128 + 128)
    assert f"model: {backbone + 16_513} parameters ({backbone} in the ResNet-18 backbone)" in out
    assert "batch: (8, 1, 28, 28) and (8, 1, 28, 28), targets (8,)" in out
    assert len(lines_with(out, "  batch ")) == 2 and "  test:  loss" in out
    compare_with_torchvision("siamese.py", args, tmp_path, ("pairs:", "model:", "batch:"), out)
