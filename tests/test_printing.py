"""format_tensor / print options against PyTorch's repr of the same tensors."""
import math

import numpy as np
import pytest
import torch

from ember._printing import format_tensor, get_printoptions, printoptions, set_printoptions

nan, inf = math.nan, math.inf


def _randn(*shape, dtype=torch.float32, seed=0, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale).to(dtype)


def _randint(low, high, *shape, dtype=torch.int64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(low, high, shape, generator=g, dtype=dtype)


def _grad_fn_tensor():
    return _randn(2, 3, seed=5).requires_grad_() + 1


CASES = {
    # floats: fixed, int-valued, scientific
    "randn_1d": lambda: _randn(5),
    "randn_2d": lambda: _randn(4, 3),
    "randn_3d": lambda: _randn(2, 3, 4),
    "randn_4d": lambda: _randn(2, 2, 1, 3),
    "arange_float": lambda: torch.arange(12.0).reshape(3, 4),
    "int_valued_mixed_sign": lambda: torch.tensor([-12.0, 3.0, 100.0, -0.0]),
    "large_magnitude": lambda: _randn(3, 3, scale=1e9),
    "small_magnitude": lambda: _randn(6, scale=1e-6),
    "ratio_over_1000": lambda: torch.tensor([0.5, 600.0, -2.0]),
    "ratio_exactly_1000": lambda: torch.tensor([1.0, 1000.5]),
    "min_below_1e-4_ratio_small": lambda: torch.tensor([5e-5, 0.004]),
    "max_above_1e8_ratio_small": lambda: torch.tensor([2e8 + 0.5, 3e6]),
    "int_valued_sci": lambda: torch.tensor([1e10, 1.0, -3.0]),
    "huge_float64_exponent": lambda: torch.tensor([1e300, 1e-300, -5.0], dtype=torch.float64),
    "rounds_up_width": lambda: torch.tensor([9.99996, 1.25]),
    "nan_inf": lambda: torch.tensor([nan, inf, -inf, 1.5, -0.0]),
    "nan_inf_int_valued": lambda: torch.tensor([[nan, 2.0], [-inf, 0.0]]),
    "all_nonfinite": lambda: torch.tensor([nan, -inf]),
    "zeros": lambda: torch.zeros(2, 3),
    "negative_zero": lambda: torch.tensor([-0.0, 0.0]),
    "nan_with_sci": lambda: torch.tensor([1e-7, nan, -0.0, 2.0]),
    # 0-d
    "scalar_float": lambda: torch.tensor(3.0),
    "scalar_fraction": lambda: torch.tensor(-12345.678),
    "scalar_sci": lambda: torch.tensor(1e-9),
    "scalar_nan": lambda: torch.tensor(nan),
    "scalar_int": lambda: torch.tensor(7),
    "scalar_int32": lambda: torch.tensor(-7, dtype=torch.int32),
    "scalar_bool": lambda: torch.tensor(False),
    "scalar_float64": lambda: torch.tensor(0.1, dtype=torch.float64),
    # empty
    "empty_1d": lambda: torch.tensor([]),
    "empty_int64": lambda: torch.tensor([], dtype=torch.int64),
    "empty_0x3": lambda: torch.zeros(0, 3),
    "empty_float64_0x3": lambda: torch.zeros(0, 3, dtype=torch.float64),
    "empty_bool_3d": lambda: torch.zeros(2, 0, 3, dtype=torch.bool),
    # integer and bool dtypes
    "int64": lambda: _randint(-1000, 1000, 3, 5),
    "int64_extremes": lambda: torch.tensor([2**63 - 1, -(2**63), 0]),
    "int32": lambda: _randint(-50, 50, 2, 3, dtype=torch.int32),
    "uint8": lambda: _randint(0, 256, 4, 4, dtype=torch.uint8),
    "int8": lambda: _randint(-128, 128, 6, dtype=torch.int8),
    "int16_3d": lambda: _randint(-9, 9, 2, 2, 2, dtype=torch.int16),
    "bool_2d": lambda: _randint(0, 2, 3, 4).bool(),
    "bool_all_true": lambda: torch.ones(3, dtype=torch.bool),
    # other float dtypes
    "float64": lambda: _randn(3, 2, dtype=torch.float64),
    "float64_int_valued": lambda: torch.arange(5, dtype=torch.float64),
    "float16": lambda: _randn(2, 4, dtype=torch.float16),
    "float16_extremes": lambda: torch.tensor([65504.0, 6e-8, -1.0], dtype=torch.float16),
    "bfloat16": lambda: _randn(5, dtype=torch.bfloat16),
    "complex64": lambda: torch.complex(_randn(2, 3), _randn(2, 3, seed=1)),
    "complex128_special": lambda: torch.tensor([1.5 + 2j, -0.0 - 0j, complex(nan, 1), 1e5j]),
    "scalar_complex": lambda: torch.tensor(1 - 2j),
    # wrapping and summarisation
    "wide_row_wraps": lambda: _randn(30),
    "wide_2d_wraps": lambda: _randn(3, 25, scale=100),
    "wide_ints_wrap": lambda: torch.arange(0, 10**9, 10**7),
    "summarized_1d": lambda: torch.arange(2000),
    "summarized_2d": lambda: _randn(40, 30),
    "summarized_3d": lambda: torch.arange(1200.0).reshape(12, 10, 10),
    "summarized_edges_set_format": lambda: torch.cat([torch.ones(3), torch.full((1000,), 1e-9),
                                                      torch.ones(3)]),
    "threshold_exactly_1000": lambda: torch.arange(1000.0),
    "summarized_bool_4d": lambda: _randint(0, 2, 2, 8, 8, 8).bool(),
    # autograd suffixes
    "requires_grad": lambda: _randn(3).requires_grad_(),
    "requires_grad_scalar": lambda: torch.tensor(2.0, requires_grad=True),
    "requires_grad_float64": lambda: _randn(2, 2, dtype=torch.float64).requires_grad_(),
    "grad_fn": _grad_fn_tensor,
    "grad_fn_wrapped": lambda: _randn(2, 30, seed=3).requires_grad_() + 1,
    "grad_fn_suffix_breaks_line": lambda: (_randn(19, dtype=torch.float64).requires_grad_() + 1),
}


def _suffixes(t: torch.Tensor) -> list:
    if t.grad_fn is not None:
        return [f"grad_fn=<{type(t.grad_fn).__name__}>"]
    return ["requires_grad=True"] if t.requires_grad else []


def _ember_repr(t: torch.Tensor, **kwargs) -> str:
    t = t.detach()
    dtype_name = str(t.dtype).removeprefix("torch.")
    # NumPy has no bfloat16; ember keeps bfloat16 values in float32 arrays.
    array = t.float().numpy() if t.dtype == torch.bfloat16 else t.numpy()
    return format_tensor(array, dtype_name=dtype_name, **kwargs)


@pytest.fixture
def restore_options():
    yield
    torch.set_printoptions(profile="default")
    set_printoptions(profile="default")


def _both(**opts):
    torch.set_printoptions(**opts)
    set_printoptions(**opts)


@pytest.mark.parametrize("name", list(CASES))
def test_repr_matches_torch(name):
    t = CASES[name]()
    got = _ember_repr(t, suffixes=_suffixes(t))
    assert got == repr(t)
    assert got == str(t)


OPTIONS = {
    "precision2": dict(precision=2),
    "precision0": dict(precision=0),
    "precision8": dict(precision=8),
    "sci_on": dict(sci_mode=True),
    "sci_off": dict(sci_mode=False),
    "narrow": dict(linewidth=30),
    "tiny_linewidth": dict(linewidth=5),
    "threshold5": dict(threshold=5),
    "threshold5_edge1": dict(threshold=5, edgeitems=1),
    "threshold0_edge0": dict(threshold=0, edgeitems=0),
    "short": dict(profile="short"),
    "full": dict(profile="full"),
    "short_override": dict(profile="short", precision=6),
}
OPTION_CASES = [
    "randn_3d", "large_magnitude", "nan_inf", "scalar_fraction", "empty_0x3", "int64", "bool_2d",
    "float16", "complex64", "wide_row_wraps", "summarized_2d", "grad_fn_wrapped", "summarized_1d",
]


@pytest.mark.parametrize("opts", list(OPTIONS))
@pytest.mark.parametrize("name", OPTION_CASES)
def test_repr_matches_torch_with_printoptions(name, opts, restore_options):
    t = CASES[name]()
    _both(**OPTIONS[opts])
    assert _ember_repr(t, suffixes=_suffixes(t)) == repr(t)


@pytest.mark.parametrize("name", ["randn_2d", "arange_float", "empty_1d", "empty_int64", "float64",
                                  "complex128_special", "complex64", "requires_grad_float64"])
def test_default_dtype_float64(name):
    t = CASES[name]()
    torch.set_default_dtype(torch.float64)
    try:
        expected = repr(t)
    finally:
        torch.set_default_dtype(torch.float32)
    assert _ember_repr(t, suffixes=_suffixes(t), default_dtype_name="float64") == expected


def test_several_suffixes_and_prefix():
    class Buffer(torch.Tensor):
        pass

    t = _randn(2, 3, dtype=torch.float64).as_subclass(Buffer)
    got = format_tensor(t.numpy(), dtype_name="float64", prefix="Buffer(")
    assert got == repr(t)
    # Each suffix goes on its own line once the current line would pass linewidth.
    long_suffix = "x" * 60
    got = format_tensor(np.zeros(3, np.float32), dtype_name="float16", suffixes=[long_suffix, long_suffix])
    assert got == "tensor([0., 0., 0.], dtype=torch.float16,\n       " + long_suffix + ",\n       " \
        + long_suffix + ")"


def test_dtype_aliases():
    a = np.arange(3.0)
    assert format_tensor(a, dtype_name="double") == format_tensor(a, dtype_name="float64")
    assert format_tensor(a, dtype_name="double").endswith("dtype=torch.float64)")


@pytest.mark.parametrize("profile", [None, "default", "short", "full"])
def test_get_printoptions_matches_torch(profile, restore_options):
    if profile is not None:
        _both(profile=profile)
    assert get_printoptions() == torch._tensor_str.get_printoptions()


def test_set_printoptions_resets_sci_mode_like_torch(restore_options):
    _both(sci_mode=True)
    _both(precision=3)  # PyTorch resets sci_mode to None here
    assert get_printoptions() == torch._tensor_str.get_printoptions()
    assert get_printoptions()["sci_mode"] is None


def test_printoptions_context_restores(restore_options):
    before = get_printoptions()
    with printoptions(precision=1, threshold=3):
        assert format_tensor(np.array([1.25, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]), dtype_name="float32") == \
            "tensor([1.2, 2.0, 3.0,  ..., 5.0, 6.0, 7.0])"
    assert get_printoptions() == before
