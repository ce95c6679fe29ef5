"""Module machinery against PyTorch: registration, traversal, repr, state_dict, hooks, containers."""
import copy
from collections import OrderedDict

import numpy as np
import pytest
from conftest import assert_close, requires_torch, to_torch, torch

import ember
from ember import nn
from ember.nn import Parameter

pytestmark = requires_torch


def _pair(build):
    """The same module built with ember's nn and torch's nn (build receives the nn namespace)."""
    return build(nn), build(torch.nn)


def _copy_weights(em, tm):
    """Load torch's parameters and buffers into the ember module (by state_dict)."""
    em.load_state_dict({k: ember.from_numpy(v.detach().numpy().copy()) for k, v in tm.state_dict().items()})


# ---- the course's examples (notes 4.6) ----------------------------------------------------------
def _run_notes_example(nnmod, kind):
    P = nnmod.Parameter
    zeros = ember.zeros if nnmod is nn else torch.zeros

    class Buggy(nnmod.Module):
        def __init__(self):
            super().__init__()
            self.conv = nnmod.Linear(25, 32)
            self.param = P(zeros(123, 456))
            if kind == "dict":
                self.ouch = {}
                self.ouch[0] = nnmod.Linear(543, 21)
            elif kind == "list":
                self.other_stuff = [nnmod.Linear(543, 21)]
            elif kind == "modulelist":
                self.other_stuff = nnmod.ModuleList()
                self.other_stuff.append(nnmod.Linear(543, 21))
            else:
                self.other_stuff = nnmod.Linear(543, 21)

    return [str(p.size()) for p in Buggy().parameters()]


@pytest.mark.parametrize("kind", ["dict", "list", "modulelist", "attribute"])
def test_notes_buggy_examples_print_like_torch(kind):
    got = _run_notes_example(nn, kind)
    assert got == _run_notes_example(torch.nn, kind)
    if kind in ("dict", "list"):
        assert got == ["torch.Size([123, 456])", "torch.Size([32, 25])", "torch.Size([32])"]
    else:
        assert got[-2:] == ["torch.Size([21, 543])", "torch.Size([21])"]


NOTES_EXAMPLES = {
    "Buggy": ("""
class Buggy(nn.Module):
    def __init__(self):
        super(Buggy, self).__init__()
        self.conv = nn.Conv2d(1, 32, kernel_size=5)
        self.param = Parameter(Tensor(123, 456))
        self.ouch = {}
        self.ouch[0] = nn.Linear(543, 21)

model = Buggy()
""", ["torch.Size([123, 456])", "torch.Size([32, 1, 5, 5])", "torch.Size([32])"]),
    "NotBuggyAnymore": ("""
class NotBuggyAnymore(nn.Module):
    def __init__(self):
        super(NotBuggyAnymore, self).__init__()
        self.conv = nn.Conv2d(1, 32, kernel_size=5)
        self.param = Parameter(Tensor(123, 456))
        self.add_module('ahhh_0', nn.Linear(543, 21))

model = NotBuggyAnymore()
""", ["torch.Size([123, 456])", "torch.Size([32, 1, 5, 5])", "torch.Size([32])", "torch.Size([21, 543])",
      "torch.Size([21])"]),
    "AnotherNotBuggy": ("""
class AnotherNotBuggy(nn.Module):
    def __init__(self):
        super(AnotherNotBuggy, self).__init__()
        self.conv = nn.Conv2d(1, 32, kernel_size=5)
        self.param = Parameter(torch.zeros(123, 456))
        self.other_stuff = nn.ModuleList()
        self.other_stuff.append(nn.Linear(543, 21))

model = AnotherNotBuggy()
""", ["torch.Size([123, 456])", "torch.Size([32, 1, 5, 5])", "torch.Size([32])", "torch.Size([21, 543])",
      "torch.Size([21])"]),
}


@pytest.mark.parametrize("name", list(NOTES_EXAMPLES))
def test_notes_examples_verbatim(name, capsys):
    if not hasattr(nn, "Conv2d"):
        pytest.skip("nn.Conv2d is built by the conv helper")
    code, expected = NOTES_EXAMPLES[name]
    code += "\nfor k in model.parameters():\n    print(k.size())\n"
    exec(code, {"nn": nn, "Parameter": Parameter, "Tensor": ember.Tensor, "torch": ember})
    assert capsys.readouterr().out.splitlines() == expected


# ---- Parameter ----------------------------------------------------------------------------------
def test_parameter_repr_and_identity():
    p = Parameter(ember.tensor([1.0, 2.0]))
    assert repr(p) == repr(torch.nn.Parameter(torch.tensor([1.0, 2.0])))
    assert isinstance(p, ember.Tensor) and p.requires_grad and p.is_leaf
    q = Parameter(ember.zeros(2), requires_grad=False)
    assert repr(q) == repr(torch.nn.Parameter(torch.zeros(2), requires_grad=False))
    assert Parameter().shape == torch.nn.Parameter().shape
    d = copy.deepcopy(p)
    assert isinstance(d, Parameter) and d.requires_grad and d._data is not p._data
    assert type(p * 2) is ember.Tensor


def test_parameter_shares_memory():
    t = ember.zeros(3)
    p = Parameter(t)
    t.add_(1)
    assert p.tolist() == [1.0, 1.0, 1.0]


# ---- registration -------------------------------------------------------------------------------
class Net(nn.Module):
    def __init__(self, n=nn):
        super().__init__()
        self.fc = n.Linear(3, 4)
        self.bn = n.BatchNorm1d(4)
        self.seq = n.Sequential(n.ReLU(), n.Linear(4, 2))

    def forward(self, x):
        return self.seq(self.bn(self.fc(x)))


class TNet(torch.nn.Module if torch else object):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(3, 4)
        self.bn = torch.nn.BatchNorm1d(4)
        self.seq = torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(4, 2))

    def forward(self, x):
        return self.seq(self.bn(self.fc(x)))


def test_traversal_names_match_torch():
    e, t = Net(), TNet()
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in e.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in e.named_children()] == [n for n, _ in t.named_children()]
    assert [n for n, _ in e.named_parameters(prefix="m", recurse=True)] == \
        [n for n, _ in t.named_parameters(prefix="m")]
    assert [n for n, _ in e.named_parameters(recurse=False)] == []
    assert list(e.state_dict().keys()) == list(t.state_dict().keys())
    assert repr(e) == repr(t).replace("TNet", "Net")
    assert e.get_submodule("seq.1") is e.seq[1]
    assert e.get_parameter("seq.1.bias") is e.seq[1].bias
    assert e.get_buffer("bn.running_mean") is e.bn.running_mean
    with pytest.raises(AttributeError, match="Sequential has no attribute `7`"):
        e.get_submodule("seq.7")
    with pytest.raises(AttributeError, match="`weight` is not an nn.Module"):
        e.get_submodule("fc.weight")


def test_shared_parameters_deduplicated():
    lin = nn.Linear(2, 2)
    s = nn.Sequential(lin, lin)
    t = torch.nn.Linear(2, 2)
    ts = torch.nn.Sequential(t, t)
    assert [n for n, _ in s.named_parameters()] == [n for n, _ in ts.named_parameters()]
    assert [n for n, _ in s.named_parameters(remove_duplicate=False)] == \
        [n for n, _ in ts.named_parameters(remove_duplicate=False)]
    assert list(s.state_dict()) == list(ts.state_dict())


def test_setattr_rules_and_errors():
    m = nn.Module()
    m.w = Parameter(ember.zeros(2))
    m.register_buffer("b", ember.ones(2))
    m.register_buffer("np_", ember.ones(1), persistent=False)
    m.sub = nn.Linear(1, 1)
    m.plain = [nn.Linear(1, 1)]
    assert list(m._parameters) == ["w"] and list(m._buffers) == ["b", "np_"] and list(m._modules) == ["sub"]
    assert list(m.state_dict()) == ["w", "b", "sub.weight", "sub.bias"]
    with pytest.raises(TypeError, match=r"cannot assign 'torch.FloatTensor' as parameter 'w' \(torch.nn.Parameter "
                                        r"or None expected\)"):
        m.w = ember.zeros(2)
    m.w = None
    assert m.w is None and "w" in m._parameters
    m.b = ember.zeros(3)
    assert m._buffers["b"].shape == (3,)
    with pytest.raises(TypeError, match="cannot assign 'int' as child module 'sub'"):
        m.sub = 3
    with pytest.raises(KeyError, match="attribute 'plain' already exists"):
        m.register_buffer("plain", ember.zeros(1))
    with pytest.raises(KeyError):
        m.register_parameter("a.b", None)
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'nope'"):
        _ = m.nope
    del m.sub
    assert "sub" not in m._modules
    assert "b" in dir(m) and "w" in dir(m)

    class Early(nn.Module):
        def __init__(self):
            self.w = Parameter(ember.zeros(1))
            super().__init__()
    with pytest.raises(AttributeError, match=r"cannot assign parameters before Module.__init__\(\) call"):
        Early()


def test_forward_missing_raises_like_torch():
    with pytest.raises(NotImplementedError) as e:
        nn.Module()(ember.zeros(1))
    with pytest.raises(NotImplementedError) as t:
        torch.nn.Module()(torch.zeros(1))
    assert str(e.value) == str(t.value)


def test_train_eval_apply_requires_grad():
    m = Net()
    assert m.training and m.bn.training
    m.eval()
    assert not m.training and not m.seq[0].training
    m.train()
    assert m.seq[1].training
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        m.train("yes")
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen == ["Linear", "BatchNorm1d", "ReLU", "Linear", "Sequential", "Net"]
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_zero_grad_and_dtype_moves():
    m = Net()
    out = m(ember.randn(5, 3))
    out.sum().backward()
    w = m.fc.weight
    assert w.grad is not None
    m.zero_grad(set_to_none=False)
    assert w.grad is not None and float(w.grad.abs().sum()) == 0
    m.zero_grad()
    assert w.grad is None
    m.double()
    assert m.fc.weight is w and w.dtype == ember.float64
    assert m.bn.num_batches_tracked.dtype == ember.int64 and m.bn.running_mean.dtype == ember.float64
    m.to(ember.float32)
    assert w.dtype == ember.float32
    m.half()
    assert w.dtype == ember.float16
    m.float().to("cpu").cpu()
    assert w.dtype == ember.float32
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        m.cuda()
    with pytest.raises(TypeError, match="nn.Module.to only accepts floating point or complex dtypes"):
        m.to(ember.int64)


# ---- state_dict ---------------------------------------------------------------------------------
def test_state_dict_roundtrip_and_keep_vars():
    e = Net()
    sd = e.state_dict()
    assert isinstance(sd, OrderedDict)
    assert not sd["fc.weight"].requires_grad and sd["fc.weight"]._data is e.fc.weight._data
    assert e.state_dict(keep_vars=True)["fc.weight"] is e.fc.weight
    f = Net()
    r = f.load_state_dict(sd)
    assert repr(r) == "<All keys matched successfully>"
    np.testing.assert_array_equal(f.fc.weight._data, e.fc.weight._data)
    assert f.fc.weight._data is not e.fc.weight._data


def _load_errors(sd_fn):
    te, tt = Net(), TNet()
    sde, sdt = sd_fn(te.state_dict(), ember), sd_fn(tt.state_dict(), torch)
    with pytest.raises(RuntimeError) as ee:
        te.load_state_dict(sde)
    with pytest.raises(RuntimeError) as et:
        tt.load_state_dict(sdt)
    return str(ee.value), str(et.value).replace("TNet", "Net")


def test_load_state_dict_missing_unexpected_message():
    def edit(sd, lib):
        sd = OrderedDict(sd)
        del sd["fc.bias"]
        del sd["bn.num_batches_tracked"]
        sd["extra.w"] = lib.zeros(1)
        sd["fc.nope"] = lib.zeros(1)
        return sd
    e, t = _load_errors(edit)
    assert e == t


def test_load_state_dict_size_mismatch_message():
    def edit(sd, lib):
        sd = OrderedDict(sd)
        sd["fc.weight"] = lib.zeros(5, 3)
        sd["seq.1.bias"] = lib.zeros(7)
        return sd
    e, t = _load_errors(edit)
    assert e == t
    assert "size mismatch for fc.weight: copying a param with shape torch.Size([5, 3]) from checkpoint, the shape " \
           "in current model is torch.Size([4, 3])." in e


def test_load_state_dict_non_strict_and_assign():
    e = nn.Linear(2, 3)
    r = e.load_state_dict({"weight": ember.ones(3, 2), "xx": ember.ones(1)}, strict=False)
    t = torch.nn.Linear(2, 3).load_state_dict({"weight": torch.ones(3, 2), "xx": torch.ones(1)}, strict=False)
    assert repr(r) == repr(t) and r.missing_keys == t.missing_keys
    w = ember.full((3, 2), 2.0)
    e.load_state_dict({"weight": w, "bias": ember.zeros(3)}, assign=True)
    assert isinstance(e.weight, Parameter) and e.weight._data is w._data and e.weight.requires_grad
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        e.load_state_dict([1, 2])


def test_batchnorm_old_checkpoint_without_num_batches_tracked():
    e, t = nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    sde, sdt = dict(e.state_dict()), dict(t.state_dict())  # plain dicts carry no version metadata
    del sde["num_batches_tracked"], sdt["num_batches_tracked"]
    assert repr(e.load_state_dict(sde)) == repr(t.load_state_dict(sdt))
    sde, sdt = e.state_dict(), t.state_dict()
    del sde["num_batches_tracked"], sdt["num_batches_tracked"]
    assert repr(e.load_state_dict(sde, strict=False)) == repr(t.load_state_dict(sdt, strict=False))


# ---- hooks --------------------------------------------------------------------------------------
def test_forward_hooks():
    m = nn.Linear(2, 2)
    calls = []
    h1 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
    h2 = m.register_forward_hook(lambda mod, args, out: out + 1)
    h3 = m.register_forward_pre_hook(lambda mod, args, kwargs: calls.append(("pre", len(args), dict(kwargs))),
                                     with_kwargs=True, prepend=True)
    x = ember.ones(1, 2)
    y = m(x)
    expected = nn.functional.linear(x * 2, m.weight, m.bias) + 1
    np.testing.assert_allclose(y._data, expected._data)
    assert calls == [("pre", 1, {})]
    for h in (h1, h2, h3):
        h.remove()
    np.testing.assert_allclose(m(x)._data, nn.functional.linear(x, m.weight, m.bias)._data)
    with m.register_forward_hook(lambda mod, args, kwargs, out: calls.append("kw"), with_kwargs=True):
        m(x)
    m(x)
    assert calls[-1] == "kw" and len(calls) == 2


def test_full_backward_hook_matches_torch():
    w = np.random.default_rng(0).standard_normal((3, 2)).astype(np.float32)
    g = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    x = np.random.default_rng(2).standard_normal((4, 2)).astype(np.float32)
    res = {}
    for name, lib, mod in (("e", ember, nn), ("t", torch, torch.nn)):
        m = mod.Linear(2, 3, bias=False)
        with lib.no_grad():
            m.weight.copy_(lib.from_numpy(w.copy()))
        seen = []
        m.register_full_backward_hook(lambda mod_, gi, go, seen=seen: seen.append((gi, go)))
        xi = lib.from_numpy(x.copy()).requires_grad_()
        m(xi).backward(lib.from_numpy(g.copy()))
        res[name] = seen
    (gi_e, go_e), = res["e"]
    (gi_t, go_t), = res["t"]
    assert len(gi_e) == len(gi_t) and len(go_e) == len(go_t)
    assert_close(gi_e[0], gi_t[0])
    assert_close(go_e[0], go_t[0])


# ---- containers ---------------------------------------------------------------------------------
def test_sequential_api():
    e = nn.Sequential(nn.Linear(1, 2), nn.ReLU(), nn.Linear(2, 3))
    t = torch.nn.Sequential(torch.nn.Linear(1, 2), torch.nn.ReLU(), torch.nn.Linear(2, 3))
    assert repr(e) == repr(t) and len(e) == 3
    assert isinstance(e[-1], nn.Linear) and e[-1].out_features == 3
    assert repr(e[1:]) == repr(t[1:]) and isinstance(e[1:], nn.Sequential)
    with pytest.raises(IndexError, match="index 3 is out of range"):
        e[3]
    e.append(nn.Tanh())
    t.append(torch.nn.Tanh())
    e.insert(1, nn.Sigmoid())
    t.insert(1, torch.nn.Sigmoid())
    e.extend([nn.ReLU6()])
    t.extend([torch.nn.ReLU6()])
    assert repr(e) == repr(t)
    del e[0]
    del t[0]
    assert repr(e) == repr(t)
    e[0] = nn.GELU()
    t[0] = torch.nn.GELU()
    assert repr(e.pop(1)) == repr(t.pop(1)) and repr(e) == repr(t)
    assert repr(e + e) == repr(t + t)
    assert [type(m).__name__ for m in e] == [type(m).__name__ for m in t]
    od = nn.Sequential(OrderedDict([("a", nn.Linear(1, 2)), ("act", nn.ReLU())]))
    odt = torch.nn.Sequential(OrderedDict([("a", torch.nn.Linear(1, 2)), ("act", torch.nn.ReLU())]))
    assert repr(od) == repr(odt) and od.act is od[1]
    assert repr(nn.Sequential()) == repr(torch.nn.Sequential())


def test_modulelist_moduledict_repr_and_api():
    e = nn.ModuleList([nn.ReLU(), nn.ReLU(), nn.Linear(2, 3), nn.ReLU()])
    t = torch.nn.ModuleList([torch.nn.ReLU(), torch.nn.ReLU(), torch.nn.Linear(2, 3), torch.nn.ReLU()])
    assert repr(e) == repr(t)
    assert repr(nn.ModuleList()) == repr(torch.nn.ModuleList())
    assert repr(e[1:3]) == repr(t[1:3])
    del e[0]
    del t[0]
    assert repr(e) == repr(t) and list(e._modules) == ["0", "1", "2"]
    e.insert(0, nn.Tanh())
    t.insert(0, torch.nn.Tanh())
    e += [nn.SiLU()]
    t += [torch.nn.SiLU()]
    assert repr(e) == repr(t)
    d = nn.ModuleDict({"b": nn.Linear(1, 1), "a": nn.ReLU()})
    td = torch.nn.ModuleDict({"b": torch.nn.Linear(1, 1), "a": torch.nn.ReLU()})
    assert repr(d) == repr(td) and list(d.keys()) == list(td.keys())
    d["c"] = nn.Tanh()
    assert "c" in d and len(d) == 3 and isinstance(d.pop("c"), nn.Tanh)
    d.update([("z", nn.ReLU())])
    assert list(d) == ["b", "a", "z"]
    assert [n for n, _ in d.named_parameters()] == ["b.weight", "b.bias"]


def test_parameter_list_and_dict():
    e = nn.ParameterList([Parameter(ember.zeros(2, 3)), ember.zeros(2, dtype=ember.float64)])
    t = torch.nn.ParameterList([torch.nn.Parameter(torch.zeros(2, 3)), torch.zeros(2, dtype=torch.float64)])
    assert repr(e) == repr(t)
    assert isinstance(e[1], Parameter) and len(e) == 2
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    e.append(ember.ones(1))
    assert len(list(e.parameters())) == 3
    d = nn.ParameterDict({"a": Parameter(ember.zeros(2, 3)), "b": ember.ones(1)})
    td = torch.nn.ParameterDict({"a": torch.nn.Parameter(torch.zeros(2, 3)), "b": torch.ones(1)})
    assert repr(d) == repr(td)
    assert [n for n, _ in d.named_parameters()] == [n for n, _ in td.named_parameters()]
    assert isinstance(d["b"], Parameter) and "a" in d and len(d) == 2


def test_nested_module_forward_and_grad_match_torch():
    e, t = Net(), TNet()
    _copy_weights(e, t)
    x = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    g = np.random.default_rng(1).standard_normal((6, 2)).astype(np.float32)
    ye, yt = e(ember.from_numpy(x)), t(torch.from_numpy(x))
    assert_close(ye, yt, atol=1e-5)
    ye.backward(ember.from_numpy(g))
    yt.backward(torch.from_numpy(g))
    for (n1, p1), (n2, p2) in zip(e.named_parameters(), t.named_parameters()):
        assert n1 == n2
        assert_close(p1.grad, p2.grad, atol=1e-5)
    for (_, b1), (_, b2) in zip(e.named_buffers(), t.named_buffers()):
        assert_close(b1, b2, atol=1e-6)
    assert to_torch(e.bn.running_var).shape == (4,)
