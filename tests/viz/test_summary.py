"""ember.viz.summary reproduces the notes' table for the course's MNIST network."""
import pytest

import ember
from ember import nn
from ember.vision.models import course_mnist_net
from ember.viz import summary

# The notes' table: (operation, output size per sample, parameters, products).
NOTES_TABLE = [
    ("Conv2d", (32, 24, 24), 832, 460_800),
    ("MaxPool2d", (32, 8, 8), 0, 0),
    ("ReLU", (32, 8, 8), 0, 0),
    ("Conv2d", (64, 4, 4), 51_264, 819_200),
    ("MaxPool2d", (64, 2, 2), 0, 0),
    ("ReLU", (64, 2, 2), 0, 0),
    ("Flatten", (256,), 0, 0),      # the notes' x.view(-1, 256)
    ("Linear", (200,), 51_400, 51_200),
    ("ReLU", (200,), 0, 0),
    ("Linear", (10,), 2_010, 2_000),
]


def test_course_net_table():
    lines = []
    s = summary(course_mnist_net(), (1, 28, 28), print_fn=lines.append)
    got = [(type(r.module).__name__, r.output_size, r.params, r.products) for r in s.rows]
    assert got == NOTES_TABLE
    assert s.total_params == 105_506
    assert s.total_products == 1_333_200
    text = lines[0]
    assert text.splitlines()[-1] == "Total 105,506 parameters and 1,333,200 products for the forward pass."
    for size in ["1×28×28", "32×24×24", "32×8×8", "64×4×4", "64×2×2", "256", "200", "10"]:
        assert f"\n{size}\n" in text + "\n", size
    for number in ["832", "460,800", "51,264", "819,200", "51,400", "51,200", "2,010", "2,000"]:
        assert number in text
    assert str(s) == text


def test_prints_by_default(capsys):
    summary(course_mnist_net(), (1, 28, 28))
    assert "Total 105,506 parameters" in capsys.readouterr().out


def test_model_left_in_its_mode_and_hooks_removed():
    m = course_mnist_net()
    m.train()
    summary(m, (1, 28, 28), print_fn=None)
    assert m.training
    # no hook left behind: a second summary gives the same rows, not twice as many
    assert len(summary(m, (1, 28, 28), print_fn=None).rows) == 10


def test_shared_module_and_strided_grouped_conv():
    conv = nn.Conv2d(4, 8, kernel_size=3, stride=2, padding=1, groups=2)
    lin = nn.Linear(8, 8)
    model = nn.Sequential(conv, nn.Flatten(start_dim=2), nn.Identity())
    s = summary(model, (4, 10, 10), print_fn=None)
    # 8 output channels x 5x5 positions x (4/2 input channels x 3x3 taps)
    assert s.rows[0].products == 8 * 5 * 5 * 2 * 9
    assert s.rows[0].params == 8 * 2 * 9 + 8
    assert s.rows[1].output_size == (8, 25)

    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = lin

        def forward(self, x):
            return self.lin(self.lin(x))

    s = summary(Twice(), (8,), print_fn=None)
    assert [r.params for r in s.rows] == [72, 0]      # shared parameters counted once
    assert [r.products for r in s.rows] == [64, 64]   # but computed twice
    assert s.total_params == sum(p.numel() for p in lin.parameters())


def test_needs_a_size():
    with pytest.raises(ValueError, match="input_size"):
        summary(course_mnist_net())
    s = summary(course_mnist_net(), input_data=ember.zeros(3, 1, 28, 28), print_fn=None)
    assert s.input_size == (1, 28, 28) and s.total_products == 1_333_200


def test_notes_net_with_functional_calls():
    """The notes' Net (pooling and ReLU through F): hooks see its four layers, totals unchanged."""
    import ember.nn.functional as F

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, kernel_size=5)
            self.conv2 = nn.Conv2d(32, 64, kernel_size=5)
            self.fc1 = nn.Linear(256, 200)
            self.fc2 = nn.Linear(200, 10)

        def forward(self, x):
            x = F.relu(F.max_pool2d(self.conv1(x), kernel_size=3, stride=3))
            x = F.relu(F.max_pool2d(self.conv2(x), kernel_size=2, stride=2))
            x = x.view(-1, 256)
            x = F.relu(self.fc1(x))
            return self.fc2(x)

    s = summary(Net(), (1, 28, 28), print_fn=None)
    assert [r.name for r in s.rows] == ["conv1", "conv2", "fc1", "fc2"]
    assert [r.output_size for r in s.rows] == [(32, 24, 24), (64, 4, 4), (200,), (10,)]
    assert (s.total_params, s.total_products) == (105_506, 1_333_200)
