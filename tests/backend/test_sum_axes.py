"""backend.sum_axes (trailing axes by one matrix-vector product) = NumPy's sum, for every axes pattern."""
import numpy as np
import pytest
import torch

from ember.backend import sum_axes

CASES = [((100, 32, 24, 24), (0, 2, 3)), ((4, 5, 6), (2,)), ((4, 5, 80), (0, 2)), ((3, 70), None),
         ((3, 70), (0, 1)), ((2, 3, 40, 5), (1, 2, 3)), ((5, 100), (1,)), ((5, 100), (0,)), ((5, 100), (-1,)),
         ((0, 100), (1,)), ((6, 200), (0, 1)),
         # short trailing axes with axis 0 reduced: axis 0 first by ones @ a
         ((64, 5, 16), (0, 2)), ((9, 3, 4, 4), (0, 2, 3)), ((7, 3), (0, 1)), ((5, 4, 3, 2), (0, 1, 3))]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,axes", CASES)
def test_matches_torch_sum(shape, axes, dtype, keepdims):
    a = np.random.default_rng(len(shape)).standard_normal(shape).astype(dtype)
    got = sum_axes(a, axes, keepdims)
    dims = tuple(range(len(shape))) if axes is None else axes
    ref = torch.from_numpy(a).sum(dim=dims, keepdim=keepdims).numpy()
    assert got.dtype == dtype and got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-4)


def test_non_finite_values_propagate():
    a = np.ones((4, 3, 100), np.float32)
    a[0, 0, 5], a[1, 1, 7], a[2, 2, 9] = np.nan, np.inf, -np.inf
    got = sum_axes(a, (0, 2))
    assert np.isnan(got[0]) and got[1] == np.inf and got[2] == -np.inf


def test_other_layouts_and_dtypes_fall_back_to_numpy():
    a = np.arange(6 * 100, dtype=np.float32).reshape(6, 100)
    np.testing.assert_array_equal(sum_axes(a.T, (1,)), a.T.sum(axis=1))             # not C-contiguous
    ints = np.arange(600).reshape(6, 100)
    assert sum_axes(ints, (1,)).dtype == ints.sum(axis=1).dtype                       # integers: NumPy's sum
    np.testing.assert_array_equal(sum_axes(a, (1,), dtype=np.float64), a.sum(axis=1, dtype=np.float64))
