"""The course's MNIST convnet (the notes' ``Net``: 105,506 parameters, 1,333,200 products)."""
from __future__ import annotations

from ... import nn
from ._utils import check_features, check_weights, register_model

__all__ = ["CourseNet", "course_mnist_net"]


class CourseNet(nn.Module):
    """The notes' ``Net``: conv 1->32 5x5, max-pool 3, ReLU, conv 32->64 5x5, max-pool 2, ReLU,
    Linear 256->200, ReLU, Linear 200->10, on 1x28x28 images.

    Parameters are named as in the notes (``conv1``, ``conv2``, ``fc1``, ``fc2``) so its state_dict
    loads into the notes' class and back; the pooling, ReLU and reshaping steps are modules too so
    that ``ember.viz.summary`` sees every row of the notes' table.
    """

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=5)
        self.pool1 = nn.MaxPool2d(kernel_size=3, stride=3)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(32, 64, kernel_size=5)
        self.pool2 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.relu2 = nn.ReLU()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(256, 200)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(200, num_classes)

    def forward(self, x):
        x = self.relu1(self.pool1(self.conv1(x)))
        x = self.relu2(self.pool2(self.conv2(x)))
        x = self.flatten(x)
        check_features(x, self.fc1, "fc1", "CourseNet", "1x28x28")
        x = self.relu3(self.fc1(x))
        return self.fc2(x)


@register_model
def course_mnist_net(*, weights=None, progress: bool = True, **kwargs) -> CourseNet:
    """The course's MNIST network (input 1x28x28, 10 classes)."""
    check_weights("course_mnist_net", weights, kwargs)
    return CourseNet(**kwargs)
