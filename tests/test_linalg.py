"""core/linalg.py: the products that avoid GSL's CBLAS inside QGIS give NumPy's results."""
import numpy as np
import pytest
from hyperfuse.core.linalg import across_bands, matmul

SHAPES = [((5, 7), (7, 3)), ((4, 5, 7), (7, 3)), ((5, 7), (4, 7, 3)), ((2, 3, 5, 7), (7, 2)), ((7,), (7, 3)),
          ((5, 7), (7,)), ((2, 2, 5, 7), (2, 2, 7, 3))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shapes", SHAPES)
def test_matmul_equals_numpy(shapes, dtype):
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal(shapes[0]).astype(dtype), rng.standard_normal(shapes[1]).astype(dtype)
    ours, numpy = matmul(a, b), np.matmul(a, b)
    assert ours.shape == numpy.shape and ours.dtype == numpy.dtype
    np.testing.assert_allclose(ours, numpy, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5)


def test_matmul_takes_views_mixed_types_and_integers():
    rng = np.random.default_rng(4)
    a, b = rng.random((10, 20))[:, 3:15], rng.random((30, 8))[2:14].astype(np.float32)
    assert matmul(a, b).dtype == np.float64
    np.testing.assert_allclose(matmul(a, b), a @ b, rtol=1e-6)
    stack = rng.random((4, 9, 20)).astype(np.float32)
    right = rng.random((8, 3)).astype(np.float32)
    np.testing.assert_allclose(matmul(stack[..., 2:10], right), stack[..., 2:10] @ right, rtol=1e-5)
    integers = np.arange(6).reshape(2, 3)
    assert matmul(integers, integers.T).dtype == integers.dtype
    np.testing.assert_array_equal(matmul(integers, integers.T), integers @ integers.T)
    assert matmul(np.zeros((0, 3)), np.ones((3, 2))).shape == (0, 2)


def test_across_bands_is_tensordot_over_the_band_axis():
    rng = np.random.default_rng(5)
    matrix, image = rng.random((4, 6)), rng.random((6, 7, 9)).astype(np.float32)
    np.testing.assert_allclose(across_bands(matrix, image), np.tensordot(matrix, image, axes=1), rtol=1e-6)
    assert across_bands(np.ones((1, 0)), np.ones((0, 3, 2))).tolist() == np.zeros((1, 3, 2)).tolist()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_add_adds_the_product_into_its_target_in_place(dtype):
    from hyperfuse.core.linalg import matmul_add

    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((6, 9)).astype(dtype), rng.standard_normal((9, 4))[:, ::1].astype(dtype)
    target = rng.standard_normal((2, 6, 4)).astype(dtype)
    before = target.copy()
    result = matmul_add(a[:, :], b.T.copy().T, target[1])           # a view of the target, b in Fortran order
    assert np.shares_memory(result, target)
    np.testing.assert_allclose(target[1], before[1] + a @ b, rtol=1e-5 if dtype == np.float32 else 1e-12)
    np.testing.assert_array_equal(target[0], before[0])
    with pytest.raises(ValueError, match="C-contiguous"):
        matmul_add(a, b, target[:, 0, :].T.copy().T)
