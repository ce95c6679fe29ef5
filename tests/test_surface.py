"""The torch surface ordinary CPU scripts touch, against PyTorch's CPU build, and ember's refusals
of what it does not implement (exception type and message)."""
import multiprocessing
import warnings

import numpy as np
import pytest

import ember
import ember.multiprocessing as emp
from ember import nn

from conftest import assert_close, requires_torch, torch


def outcome(fn):
    """(exception type name, message) or ("ok", value) — comparable between ember and torch."""
    try:
        return ("ok", fn())
    except Exception as e:  # noqa: BLE001
        return (type(e).__name__, str(e))


def warnings_of(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [(w.category.__name__, str(w.message)) for w in caught]


# ---- torch.accelerator / torch.cuda / torch.backends --------------------------------------------

@requires_torch
@pytest.mark.parametrize("call", [
    lambda t: t.accelerator.is_available(),
    lambda t: t.accelerator.current_accelerator(),
    lambda t: t.accelerator.current_accelerator(check_available=True),
    lambda t: t.accelerator.device_count(),
    lambda t: t.accelerator.current_device_index(),
    lambda t: t.accelerator.synchronize(),
    lambda t: t.accelerator.set_device_index(0),
    lambda t: t.accelerator.empty_cache(),
    lambda t: t.accelerator.memory_allocated(),
])
def test_accelerator(call):
    assert outcome(lambda: call(ember)) == outcome(lambda: call(torch))


@requires_torch
@pytest.mark.parametrize("call", [
    lambda t: t.cuda.is_available(),
    lambda t: t.cuda.device_count(),
    lambda t: t.cuda.is_initialized(),
    lambda t: t.cuda.current_device(),
    lambda t: t.cuda.get_device_name(0),
    lambda t: t.cuda.get_device_capability(),
    lambda t: t.cuda.synchronize(),
    lambda t: t.cuda.manual_seed(0),
    lambda t: t.cuda.manual_seed_all(0),
    lambda t: t.cuda.empty_cache(),
    lambda t: t.cuda.memory_allocated(),
    lambda t: t.cuda.max_memory_allocated(),
    lambda t: t.cuda.memory_reserved(),
    lambda t: t.cuda.is_bf16_supported(),
    lambda t: t.cuda.get_arch_list(),
    lambda t: t.cuda.initial_seed(),
    lambda t: t.cuda.mem_get_info(),
    lambda t: t.cuda.Stream(),
    lambda t: t.cuda.device(0).__enter__(),
    lambda t: str(t.device("cuda" if t.cuda.is_available() else "cpu")),
    lambda t: str(t.device("cuda:1")),
    lambda t: t.zeros(2).cuda(),
    lambda t: t.zeros(2).cuda(0),
    lambda t: t.zeros(2).to("cuda"),
    lambda t: t.zeros(2).to("cuda:0"),
    lambda t: t.zeros(2).to(t.device("cuda"), t.float64),
    lambda t: t.zeros(2, device="cuda"),
    lambda t: t.tensor([1.0], device=t.device("cuda")),
    lambda t: t.nn.Linear(2, 2).cuda(),
    lambda t: t.nn.Linear(2, 2).to("cuda"),
    lambda t: t.zeros(2).is_cuda,
    lambda t: t.zeros(2).cpu().to("cpu").tolist(),
])
def test_cuda_as_cpu_build(call):
    assert outcome(lambda: call(ember)) == outcome(lambda: call(torch))


def test_cuda_error_is_pytorchs():
    with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled$"):
        ember.ones(3).cuda()
    with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled$"):
        ember.ones(3).to("cuda")


@requires_torch
def test_cuda_amp_warns_and_disables():
    def use(t):
        with t.cuda.amp.autocast():
            pass
        scaler = t.cuda.amp.GradScaler()
        return scaler

    assert warnings_of(lambda: use(ember)) == warnings_of(lambda: use(torch))
    for t in (ember, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scaler = t.amp.GradScaler("cuda")
            assert not scaler.is_enabled() and scaler.state_dict() == {}
            loss = t.tensor(2.0)
            assert scaler.scale(loss) is loss


@requires_torch
def test_amp_grad_scaler_cpu():
    """GradScaler('cpu') scales the loss, unscales gradients, steps and grows as torch's."""
    w = np.array([1.0, -2.0, 0.5], np.float32)
    results = []
    for t in (ember, torch):
        p = t.nn.Parameter(t.tensor(w))
        opt = t.optim.SGD([p], lr=0.1)
        scaler = t.amp.GradScaler("cpu", init_scale=1024.0, growth_interval=2)
        scaled = []
        for _ in range(3):
            opt.zero_grad()
            loss = (p * p).sum()
            s = scaler.scale(loss)
            scaled.append(s.item())
            s.backward()
            scaler.step(opt)
            scaler.update()
        results.append((scaled, p.detach().numpy().tolist() if t is torch else p.tolist(), scaler.get_scale(),
                        scaler.state_dict()))
    e, r = results
    np.testing.assert_allclose(e[0], r[0], rtol=1e-6)
    np.testing.assert_allclose(e[1], r[1], rtol=1e-6)
    assert e[2] == r[2] and e[3] == r[3]


@requires_torch
def test_autocast_cpu_is_a_context_and_decorator():
    with ember.autocast("cpu", dtype=ember.bfloat16):
        assert ember.is_autocast_enabled("cpu")
    assert not ember.is_autocast_enabled("cpu")
    assert warnings_of(lambda: ember.autocast("cuda")) == warnings_of(lambda: torch.autocast("cuda"))

    @ember.amp.autocast("cpu")
    def f(x):
        return x * 2
    assert f(ember.ones(2)).tolist() == [2.0, 2.0]


@requires_torch
@pytest.mark.parametrize("call", [
    lambda t: t.backends.cudnn.is_available(),
    lambda t: t.backends.cudnn.enabled,
    lambda t: t.backends.cudnn.benchmark,
    lambda t: t.backends.cudnn.deterministic,
    lambda t: t.backends.cudnn.allow_tf32,
    lambda t: t.backends.cudnn.version(),
    lambda t: t.backends.mps.is_available(),
    lambda t: t.backends.mps.is_built(),
    lambda t: t.backends.cuda.is_built(),
    lambda t: t.backends.cuda.matmul.allow_tf32,
])
def test_backend_flags(call):
    assert outcome(lambda: call(ember)) == outcome(lambda: call(torch))


def test_backend_flags_are_settable():
    cudnn = ember.backends.cudnn
    old = cudnn.benchmark, cudnn.deterministic
    try:
        cudnn.benchmark, cudnn.deterministic = True, True
        assert ember.backends.cudnn.benchmark is True and ember.backends.cudnn.deterministic is True
    finally:
        cudnn.benchmark, cudnn.deterministic = old


# ---- nn.parallel.DataParallel -------------------------------------------------------------------

@requires_torch
def test_data_parallel_without_gpus():
    m = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    tm.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in m.state_dict().items()})
    dp, tdp = nn.DataParallel(m), torch.nn.DataParallel(tm)
    assert dp.module is m and isinstance(dp, nn.parallel.DataParallel)
    assert dp.device_ids == tdp.device_ids == []
    assert repr(dp) == repr(tdp)
    assert list(dp.state_dict()) == list(tdp.state_dict())
    x = ember.randn(5, 3)
    out = dp(x)
    assert_close(out, tdp(torch.from_numpy(x.numpy())), rtol=1e-6)
    assert ember.equal(out, m(x))
    out.sum().backward()
    assert m[0].weight.grad is not None
    assert outcome(lambda: nn.parallel.data_parallel(m, x)) == outcome(
        lambda: torch.nn.parallel.data_parallel(tm, torch.from_numpy(x.numpy())))
    wrapped = nn.DataParallel(nn.Linear(2, 2), device_ids=[0, 1])
    assert wrapped.device_ids == []


# ---- torch.multiprocessing and shared memory ----------------------------------------------------

def _add_rank(rank, t):
    t[rank] += rank + 1


def _train_shared(model, steps):
    opt = ember.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(steps):
        opt.zero_grad()
        model(ember.ones(1, 2)).sum().backward()
        opt.step()


def _fail(rank):
    raise ValueError(f"failure in process {rank}")


def test_multiprocessing_api():
    assert emp.Process is multiprocessing.Process
    assert emp.get_context("spawn").Process is multiprocessing.get_context("spawn").Process
    for name in ("set_start_method", "get_start_method", "spawn", "Queue", "Pool", "Barrier", "cpu_count"):
        assert callable(getattr(emp, name))
    assert emp.get_all_sharing_strategies() == {"file_system", "file_descriptor"}
    if torch is not None:
        import torch.multiprocessing as tmp
        assert emp.get_sharing_strategy() == tmp.get_sharing_strategy()
    with pytest.raises(ValueError):
        emp.set_sharing_strategy("nonsense")


def test_share_memory_tensor_across_spawn():
    t = ember.zeros(3).share_memory_()
    assert t.is_shared() and not ember.zeros(1).is_shared()
    emp.spawn(_add_rank, args=(t,), nprocs=2)
    assert t.tolist() == [1.0, 2.0, 0.0]


@pytest.mark.parametrize("method", ["fork"])  # spawn: test_share_memory_tensor_across_spawn, examples/hogwild.py
def test_module_share_memory_hogwild(method):
    model = nn.Linear(2, 1)
    assert model.share_memory() is model
    assert all(p.is_shared() for p in model.parameters())
    before = model.weight.detach().clone()
    ctx = emp.get_context(method)
    procs = [ctx.Process(target=_train_shared, args=(model, 3)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    # each SGD step subtracts lr * 1 from every weight: two processes x 3 steps, one set of weights
    np.testing.assert_allclose(model.weight.detach().numpy(), before.numpy() - 0.6, rtol=1e-5)


def test_spawn_reports_child_errors():
    with pytest.raises(emp.ProcessRaisedException, match="failure in process"):
        emp.spawn(_fail, nprocs=1)


# ---- torch.save / torch.load of whole checkpoints ------------------------------------------------

def _checkpoint(t, model, opt):
    return {"epoch": 7, "step": 1234, "loss": 0.125, "best_acc": 91.5, "arch": "mlp", "flags": [True, None],
            "model_state_dict": model.state_dict(), "optimizer_state_dict": opt.state_dict(),
            "history": {"train": [1.0, 0.5], "note": "ok"}, "lr": t.tensor(0.01)}


@requires_torch
def test_checkpoint_round_trip_and_torch_checkpoints(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
    opt = ember.optim.Adam(model.parameters(), lr=1e-3)
    model(ember.randn(5, 3)).sum().backward()
    opt.step()
    ember.save(_checkpoint(ember, model, opt), tmp_path / "e.pt")
    for loaded, t in ((ember.load(tmp_path / "e.pt"), ember),):  # ember's format is safetensors: torch can't
        assert (loaded["epoch"], loaded["step"], loaded["loss"], loaded["best_acc"], loaded["arch"]) == (
            7, 1234, 0.125, 91.5, "mlp")
        assert loaded["flags"] == [True, None] and loaded["history"] == {"train": [1.0, 0.5], "note": "ok"}
        assert list(loaded["model_state_dict"]) == list(model.state_dict())
        assert loaded["optimizer_state_dict"]["param_groups"][0]["lr"] == 1e-3
        assert isinstance(loaded["lr"], t.Tensor)
    restored = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
    ck = ember.load(tmp_path / "e.pt")
    restored.load_state_dict(ck["model_state_dict"])
    opt2 = ember.optim.Adam(restored.parameters())
    opt2.load_state_dict(ck["optimizer_state_dict"])
    for k, v in model.state_dict().items():
        assert ember.equal(restored.state_dict()[k], v)

    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 1))
    topt = torch.optim.Adam(tmodel.parameters(), lr=1e-3)
    torch.save(_checkpoint(torch, tmodel, topt), tmp_path / "t.pt")
    ck = ember.load(tmp_path / "t.pt")
    assert (ck["epoch"], ck["arch"], ck["history"]["note"]) == (7, "mlp", "ok")
    model.load_state_dict(ck["model_state_dict"])
    for k, v in tmodel.state_dict().items():
        assert_close(model.state_dict()[k], v)


# ---- Tensor.__format__ ----------------------------------------------------------------------------

FORMAT_CASES = [
    ("{:+.2f}", lambda t: t.tensor(3.14159)),
    ("{:.4f}", lambda t: t.tensor(2.5, requires_grad=True) * 2),
    ("{:>8.3e}", lambda t: t.tensor(12345.678)),
    ("{:d}", lambda t: t.tensor(7)),
    ("{:5}", lambda t: t.tensor(True)),
    ("{}", lambda t: t.tensor(0.5)),
    ("{:.1%}", lambda t: t.tensor(0.25, dtype=t.float64)),
    ("{:+.2f}", lambda t: t.tensor([3.14159])),
    ("{:.2f}", lambda t: t.tensor([1.0, 2.0])),
    ("{}", lambda t: t.tensor([1.0, 2.0])),
    ("{!r}", lambda t: t.tensor([1, 2])),
    ("{:.2f}", lambda t: t.nn.Parameter(t.tensor(1.5))),
    ("{:d}", lambda t: t.tensor(7.0)),
]


@requires_torch
@pytest.mark.parametrize("spec,make", FORMAT_CASES)
def test_format_like_torch(spec, make):
    assert outcome(lambda: spec.format(make(ember))) == outcome(lambda: spec.format(make(torch)))


@requires_torch
def test_format_loss_in_fstring():
    loss = ember.nn.functional.mse_loss(ember.tensor([1.0, 2.0]), ember.tensor([1.5, 2.5]))
    tloss = torch.nn.functional.mse_loss(torch.tensor([1.0, 2.0]), torch.tensor([1.5, 2.5]))
    assert f"loss {loss:.6f} {loss}" == f"loss {tloss:.6f} {tloss}"


# ---- top-level functions scripts use --------------------------------------------------------------

@requires_torch
@pytest.mark.parametrize("call", [
    lambda t, x: t.flatten(x),
    lambda t, x: t.flatten(x, 1),
    lambda t, x: t.flatten(x, start_dim=0, end_dim=1),
    lambda t, x: t.flatten(x, -2),
    lambda t, x: t.flatten(t.tensor(3.0)),
    lambda t, x: t.where(x > 5, x, t.zeros_like(x)),
    lambda t, x: t.where(x > 5, x, 0.0),
    lambda t, x: t.where(x > 5, 1.0, -1.0),
    lambda t, x: t.where(x > 20),
    lambda t, x: t.full((2, 3), 7),
    lambda t, x: t.full((2,), 1.5),
    lambda t, x: t.full((2, 2), True),
    lambda t, x: t.full((3,), 2, dtype=t.float64),
    lambda t, x: t.full_like(x, 4),
])
def test_toplevel_like_torch(call):
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    e, r = call(ember, ember.tensor(x)), call(torch, torch.tensor(x))
    if isinstance(r, tuple):
        assert len(e) == len(r)
        for a, b in zip(e, r):
            assert_close(a, b)
    else:
        assert_close(e, r)


@requires_torch
def test_where_gradient():
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    g = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ember.where(ex > 0, ex * 2, ex.exp()).backward(ember.tensor(g))
    torch.where(tx > 0, tx * 2, tx.exp()).backward(torch.tensor(g))
    assert_close(ex.grad, tx.grad)


@requires_torch
def test_random_like():
    x = ember.zeros(2, 3, dtype=ember.float64)
    for fn in ("randn_like", "rand_like"):
        r, t = getattr(ember, fn)(x), getattr(torch, fn)(torch.zeros(2, 3, dtype=torch.float64))
        assert (r.shape, str(r.dtype), r.requires_grad) == (tuple(t.shape), str(t.dtype), t.requires_grad)
        r = getattr(ember, fn)(x, dtype=ember.float32, requires_grad=True)
        assert r.dtype == ember.float32 and r.requires_grad and r.is_leaf
    big = ember.randn_like(ember.zeros(20000))
    assert abs(big.mean().item()) < 0.05 and abs(big.std().item() - 1) < 0.05
    ember.manual_seed(3)
    a = ember.randn_like(x)
    ember.manual_seed(3)
    assert ember.equal(a, ember.randn_like(x))


INIT_CALLS = [
    ("uniform_", {"a": -0.5, "b": 0.5}), ("normal_", {"mean": 0.0, "std": 0.1}), ("constant_", {"val": 0.3}),
    ("ones_", {}), ("zeros_", {}), ("eye_", {}), ("xavier_uniform_", {}), ("xavier_normal_", {"gain": 2.0}),
    ("kaiming_uniform_", {"a": 0.1}), ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}),
    ("trunc_normal_", {"std": 0.02}), ("orthogonal_", {}),
]


@requires_torch
@pytest.mark.parametrize("name,kwargs", INIT_CALLS)
def test_init_module_level_calls(name, kwargs):
    """``nn.init.<name>_(module.weight)`` as scripts call it: in place, on Parameters, no graph."""
    layer = nn.Linear(200, 100)
    w = layer.weight
    out = getattr(nn.init, name)(w, **kwargs)
    assert out is w and w.grad_fn is None and w.requires_grad and isinstance(w, nn.Parameter)
    tw = torch.empty(100, 200)
    getattr(torch.nn.init, name)(tw, **kwargs)
    if name in ("constant_", "ones_", "zeros_", "eye_"):
        assert_close(w.detach(), tw)
    else:  # random: same distribution
        e, t = w.detach().numpy(), tw.numpy()
        assert abs(e.mean() - t.mean()) < 0.02 + 0.05 * t.std()
        assert abs(e.std() - t.std()) < 0.05 * t.std() + 1e-6
        assert abs(e.min() - t.min()) < 0.25 * (t.max() - t.min())


@requires_torch
def test_init_in_apply_and_gain():
    def init(m):
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.constant_(m.bias, 0.1)
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4)).apply(init)
    assert net[0].bias.tolist() == [0.0] * 4 and net[1].bias.tolist() == pytest.approx([0.1] * 4)
    for args in [("relu",), ("leaky_relu", 0.2), ("tanh",), ("sigmoid",), ("selu",), ("conv2d",)]:
        assert nn.init.calculate_gain(*args) == pytest.approx(torch.nn.init.calculate_gain(*args))
    a, b = ember.empty(2, 3, 3), torch.empty(2, 3, 3)
    assert_close(nn.init.dirac_(a), torch.nn.init.dirac_(b))


# ---- compile / jit / fx / sparse: refusals and the CPU-friendly compile ---------------------------

def test_compile_returns_model_with_one_warning():
    from ember import _surface
    _surface._compile_warned[0] = False
    model = nn.Linear(2, 2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert ember.compile(model) is model
        assert ember.compile(model, mode="reduce-overhead") is model
    assert [str(w.message) for w in caught] == [
        "ember does not compile models: torch.compile returns the model unchanged"]
    assert caught[0].filename == __file__  # points at the caller's line

    def f(x):
        return x + 1
    assert ember.compile(f) is f
    assert ember.compile()(f) is f  # @torch.compile() as a decorator factory
    x = ember.ones(2)
    assert ember.compile(model)(x).shape == (2,)


@pytest.mark.parametrize("call,feature", [
    (lambda: ember.jit.script(nn.Linear(2, 2)), "TorchScript (torch.jit.script)"),
    (lambda: ember.jit.trace(nn.Linear(2, 2), ember.ones(1, 2)), "TorchScript (torch.jit.trace)"),
    (lambda: ember.jit.load("model.pt"), "TorchScript (torch.jit.load)"),
    (lambda: ember.sparse_coo_tensor([[0, 1]], [1.0, 2.0], (3,)), "sparse tensors (torch.sparse_coo_tensor)"),
    (lambda: ember.sparse_csr_tensor([0, 1], [0], [1.0]), "sparse tensors (torch.sparse_csr_tensor)"),
    (lambda: ember.quantize_per_tensor(ember.ones(2), 0.1, 0, ember.int8), "quantization"),
])
def test_refusals_name_the_feature(call, feature):
    with pytest.raises(NotImplementedError, match="^ember does not support ") as info:
        call()
    assert feature in str(info.value)
    assert isinstance(info.value, RuntimeError)  # NotImplementedError is a RuntimeError, as torch's errors


def test_jit_helpers_behave_as_eager():
    assert ember.jit.is_scripting() is False and ember.jit.is_tracing() is False

    @ember.jit.ignore
    def g(x):
        return x
    assert g(3) == 3
    assert ember.jit.unused(g) is g and ember.jit.annotate(int, 5) == 5


@pytest.mark.parametrize("attr,feature", [
    ("fx", "torch.fx"), ("sparse", "sparse tensors"), ("quantization", "quantization"), ("onnx", "ONNX export"),
    ("distributions", "torch.distributions"), ("hub", "torch.hub"), ("no_such_thing", "torch.no_such_thing"),
])
def test_missing_namespaces_name_the_feature(attr, feature):
    if attr in ember.__dict__:  # implemented meanwhile
        pytest.skip(f"ember.{attr} exists now")
    with pytest.raises(AttributeError, match="ember does not support") as info:
        getattr(ember, attr)
    assert feature in str(info.value)
    assert not hasattr(ember, attr)


def test_missing_members_name_the_feature():
    for module, shown in [(ember.nn, "torch.nn"), (ember.nn.functional, "torch.nn.functional"),
                          (ember.optim, "torch.optim"), (ember.utils.data, "torch.utils.data"),
                          (ember.cuda, "torch.cuda")]:
        with pytest.raises(AttributeError, match=f"ember does not support {shown}.NoSuchThing"):
            module.NoSuchThing  # noqa: B018
    with pytest.raises(AttributeError, match="ember does not support Tensor.no_such_method"):
        ember.ones(1).no_such_method()
    assert not hasattr(ember.ones(1), "no_such_method") and not hasattr(ember.ones(1), "_private_thing")


def test_unsupported_import_under_alias():
    """``import torch.fx`` under the alias: an ImportError naming the feature (alias not installed here)."""
    import importlib.util

    from ember import _alias
    spec = _alias._FINDER.find_spec("torch.fx")
    with pytest.raises(ImportError, match=r"ember does not support torch.fx graph transformations \('torch.fx'\)"):
        importlib.util.module_from_spec(spec)
    assert _alias._FINDER.find_spec("numpy") is None
    assert _alias._FINDER.find_spec("torch.nn.functional").loader.target == "ember.nn.functional"


def test_threads_and_flags():
    n = ember.get_num_threads()
    ember.set_num_threads(1)
    assert ember.get_num_threads() == 1
    ember.set_num_threads(n)
    with pytest.raises(RuntimeError):
        ember.set_num_threads(0)
    ember.use_deterministic_algorithms(True)
    assert ember.are_deterministic_algorithms_enabled()
    ember.use_deterministic_algorithms(False)
    ember.set_float32_matmul_precision("high")
    assert ember.get_float32_matmul_precision() == "high"
    ember.set_float32_matmul_precision("highest")
    assert ember.version.cuda is None


# ---- legacy idioms older scripts still use --------------------------------------------------------

@requires_torch
@pytest.mark.parametrize("call", [
    lambda t: isinstance(t.ones(2), t.autograd.Variable),
    lambda t: t.autograd.Variable(t.ones(2)).requires_grad,
    lambda t: t.autograd.Variable(t.ones(2), requires_grad=True).is_leaf,
    lambda t: t.autograd.Variable((t.ones(2, requires_grad=True) * 2)).grad_fn is None,
    lambda t: tuple(t.autograd.Variable().shape),
    lambda t: t.autograd.Variable([1.0]),
    lambda t: isinstance(t.ones(2), t.cuda.FloatTensor),
    lambda t: t.cuda.FloatTensor(2),
    lambda t: t.cuda.LongTensor.__name__,
    lambda t: tuple(t.FloatTensor(4, 3).new(2, 5).shape),
    lambda t: str(t.ones(2, dtype=t.float64).new([1, 2]).dtype),
    lambda t: t.zeros(4).resize_(2, 2).tolist(),
    lambda t: tuple(t.zeros(2).resize_(t.Size([3, 2])).shape),
    lambda t: t.zeros(2, requires_grad=True).resize_(3),
    lambda t: t.arange(6.0).resize_as_(t.zeros(2, 2)).tolist(),
    lambda t: repr(t.channels_last),
    lambda t: t.ones(1, 2, 3, 3).contiguous(memory_format=t.channels_last).sum().item(),
    lambda t: t.ones(1, 2, 3, 3).to(memory_format=t.channels_last).shape == (1, 2, 3, 3),
    lambda t: type(t.nn.Conv2d(2, 2, 1).to(memory_format=t.channels_last)).__name__,
    lambda t: t.random.manual_seed(5).initial_seed(),
    lambda t: t.random.initial_seed(),
    lambda t: t.serialization.add_safe_globals([dict]),
])
def test_legacy_idioms_like_torch(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert outcome(lambda: call(ember)) == outcome(lambda: call(torch))


def test_volatile_variable_warns():
    with pytest.warns(UserWarning, match="volatile was removed"):
        ember.autograd.Variable(ember.ones(1), volatile=True)


def test_fork_rng_restores_state():
    ember.manual_seed(1)
    with ember.random.fork_rng():
        a = ember.rand(3)
    b = ember.rand(3)
    assert ember.equal(a, b)


@requires_torch
def test_set_default_tensor_type():
    try:
        with pytest.warns(UserWarning, match="set_default_tensor_type\\(\\) is deprecated"):
            ember.set_default_tensor_type(ember.DoubleTensor)
        assert ember.get_default_dtype() == ember.float64 and ember.ones(1).dtype == ember.float64
        ember.set_default_tensor_type("torch.FloatTensor")
        assert ember.get_default_dtype() == ember.float32
    finally:
        ember.set_default_dtype(ember.float32)


@requires_torch
@pytest.mark.parametrize("call", [
    lambda t: t.cpu.is_available(), lambda t: t.cpu.device_count(), lambda t: t.cpu.current_device(),
    lambda t: t.cpu.synchronize(),
    lambda t: t.mps.is_available(), lambda t: t.mps.device_count(), lambda t: t.mps.manual_seed(1),
    lambda t: t.mps.synchronize(), lambda t: t.mps.empty_cache(), lambda t: t.mps.current_allocated_memory(),
    lambda t: t.xpu.is_available(), lambda t: t.xpu.device_count(), lambda t: t.xpu.manual_seed(1),
    lambda t: t.xpu.synchronize(), lambda t: t.xpu.current_device(), lambda t: t.xpu.empty_cache(),
])
def test_other_device_namespaces(call):
    assert outcome(lambda: call(ember)) == outcome(lambda: call(torch))
