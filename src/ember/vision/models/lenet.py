"""LeNet5 (LeCun et al., 1989/1998) in the notes' two readings."""
from __future__ import annotations

from ... import nn
from ._utils import check_features, check_weights, register_model

__all__ = ["LeNet5", "lenet5"]


class LeNet5(nn.Module):
    """LeNet5 for 1x28x28 digits, 10 classes.

    ``variant="modern"`` (the notes' torch listing): conv 1->6 5x5, ReLU, max-pool 2, conv 6->16 5x5,
    ReLU, max-pool 2, then Linear 256->120->84->10 with ReLU.

    ``variant="classic"`` (the 1998 paper, read as the notes do): the 28x28 image padded by 2 to
    32x32, C1 conv 1->6 5x5, tanh, S2 2x2 average pooling, C3 conv 6->16 5x5 (complete connections),
    tanh, S4 average pooling, C5 conv 16->120 5x5 (1x1 output), tanh, F6 Linear 120->84, tanh, and
    a linear output layer in place of the Gaussian connections.
    """

    def __init__(self, num_classes: int = 10, variant: str = "modern") -> None:
        super().__init__()
        if variant not in ("modern", "classic"):
            raise ValueError(f"LeNet5: variant must be 'modern' or 'classic', got {variant!r}")
        self.variant = variant
        if variant == "modern":
            self.features = nn.Sequential(
                nn.Conv2d(1, 6, kernel_size=5),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=2, stride=2),
                nn.Conv2d(6, 16, kernel_size=5),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=2, stride=2),
            )
            self.classifier = nn.Sequential(
                nn.Linear(256, 120),
                nn.ReLU(inplace=True),
                nn.Linear(120, 84),
                nn.ReLU(inplace=True),
                nn.Linear(84, num_classes),
            )
        else:
            self.features = nn.Sequential(
                nn.Conv2d(1, 6, kernel_size=5, padding=2),
                nn.Tanh(),
                nn.AvgPool2d(kernel_size=2, stride=2),
                nn.Conv2d(6, 16, kernel_size=5),
                nn.Tanh(),
                nn.AvgPool2d(kernel_size=2, stride=2),
                nn.Conv2d(16, 120, kernel_size=5),
                nn.Tanh(),
            )
            self.classifier = nn.Sequential(
                nn.Linear(120, 84),
                nn.Tanh(),
                nn.Linear(84, num_classes),
            )

    def forward(self, x):
        x = self.features(x).flatten(1)
        check_features(x, self.classifier[0], "classifier.0", "LeNet5", "1x28x28")
        return self.classifier(x)


@register_model
def lenet5(*, weights=None, progress: bool = True, variant: str = "modern", **kwargs) -> LeNet5:
    """LeNet5, ``variant="modern"`` (ReLU, max pooling) or ``"classic"`` (tanh, average pooling)."""
    check_weights("lenet5", weights, kwargs)
    return LeNet5(variant=variant, **kwargs)
