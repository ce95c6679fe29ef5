"""The autograd examples of the course notes, printing what the notes print."""
import pytest

import ember as torch


def test_grad_tuple():
    t = torch.tensor([1., 2., 4.]).requires_grad_()
    u = torch.tensor([10., 20.]).requires_grad_()
    a = t.pow(2).sum() + u.log().sum()
    assert repr(torch.autograd.grad(a, (t, u))) == "(tensor([2., 4., 8.]), tensor([0.1000, 0.0500]))"


def test_backward_accumulates():
    x = torch.tensor([-3., 2., 5.]).requires_grad_()
    u = x.pow(3).sum()
    assert x.grad is None
    u.backward()
    assert repr(x.grad) == "tensor([27., 12., 75.])"
    x.pow(3).sum().backward()
    assert repr(x.grad) == "tensor([ 54.,  24., 150.])"


def test_grad_fn_names_and_next_functions():
    x = torch.tensor([1.0, -2.0, 3.0, -4.0]).requires_grad_()
    s = x.abs().sum()
    assert repr(s) == "tensor(10., grad_fn=<SumBackward0>)"
    (n0, i0), = s.grad_fn.next_functions
    assert type(n0).__name__ == "AbsBackward0" and i0 == 0
    (n1, _), = n0.next_functions
    assert type(n1).__name__ == "AccumulateGrad" and n1.variable is x


@pytest.mark.parametrize("detach,expected", [(False, "0.333333 -0.333333"), (True, "1.000000 -0.000000")])
def test_detach_example(detach, expected):
    eta = 0.1
    a = torch.tensor(0.5).requires_grad_()
    b = torch.tensor(-0.5).requires_grad_()
    for _ in range(100):
        l = (a - 1) ** 2 + (b + 1) ** 2 + ((a.detach() if detach else a) - b) ** 2
        ga, gb = torch.autograd.grad(l, (a, b))
        with torch.no_grad():
            a -= eta * ga
            b -= eta * gb
    assert "%.06f %.06f" % (a.item(), b.item()) == expected


def test_second_order():
    x = torch.tensor([1., 2., 3.]).requires_grad_()
    phi = x.pow(2).sum()
    g1, = torch.autograd.grad(phi, x, create_graph=True)
    assert repr(g1) == "tensor([2., 4., 6.], grad_fn=<MulBackward0>)"
    psi = g1[0].exp() - g1[2].exp()
    g2, = torch.autograd.grad(psi, x)
    assert repr(g2) == "tensor([  14.7781,    0.0000, -806.8576])"


def test_inplace_errors():
    x = torch.tensor([1., 2., 3.]).requires_grad_()
    y = x.sin()
    y.sum().backward()
    y = x.sin()
    y += 1
    y.sum().backward()
    y = x.sin()
    y *= y
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        x += 1


def test_integer_cannot_require_grad():
    with pytest.raises(RuntimeError, match="only Tensors of floating point"):
        torch.tensor([1, 2]).requires_grad_()


def test_three_layer_graph_backward():
    w1 = torch.rand(5, 5).requires_grad_()
    w2 = torch.rand(5, 5).requires_grad_()
    x = torch.empty(5).normal_()
    x1 = w1 @ x
    x2 = x + w2 @ x1
    x3 = w1 @ (x1 + x2)
    x3.norm().backward()
    assert w1.grad.shape == (5, 5) and w2.grad.shape == (5, 5)


def test_manual_sgd_loop_under_no_grad():
    x = torch.randn(50, 784)
    y = torch.randn(50, 10)
    w = torch.empty(10, 784).normal_(0, 1e-3).requires_grad_()
    b = torch.empty(10).normal_(0, 1e-3).requires_grad_()
    eta = 1e-2
    losses = []
    for _ in range(20):
        y_hat = x @ w.t() + b
        loss = (y_hat - y).pow(2).mean()
        losses.append(loss.item())
        w.grad, b.grad = None, None
        loss.backward()
        with torch.no_grad():
            w -= eta * w.grad
            b -= eta * b.grad
    assert losses[-1] < losses[0]
