"""The piecewise-linear evaluation of a scalar ReLU layer equals the direct computation."""

import pytest

torch = pytest.importorskip("torch")
from hybridroute.neural.piecewise import relu_pwl  # noqa: E402


def _direct(x, a, b, F):
    return torch.relu(x.unsqueeze(-1) * a + b) @ F


@pytest.mark.parametrize("d, m", [(1, 1), (8, 2), (64, 67)])
def test_values_and_gradients_match_direct(d, m):
    g = torch.Generator().manual_seed(d)
    a = torch.randn(d, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(d, generator=g, dtype=torch.float64, requires_grad=True)
    F = torch.randn(d, m, generator=g, dtype=torch.float64, requires_grad=True)
    x = (torch.rand(3, 7, 7, generator=g, dtype=torch.float64) - 0.5) * 8
    ref, out = _direct(x, a, b, F), relu_pwl(x, a, b, F)
    assert out.shape == ref.shape
    assert torch.allclose(out, ref, atol=1e-10)
    w = torch.randn(ref.shape, generator=g, dtype=torch.float64)
    for gr, go in zip(torch.autograd.grad((ref * w).sum(), [a, b, F]),
                      torch.autograd.grad((out * w).sum(), [a, b, F])):
        assert torch.allclose(gr, go, atol=1e-9)


def test_zero_slopes_and_inputs_on_breakpoints():
    a = torch.tensor([0.0, 2.0, -1.0, 0.0], dtype=torch.float64)
    b = torch.tensor([1.0, -1.0, 0.5, -3.0], dtype=torch.float64)
    F = torch.eye(4, dtype=torch.float64)
    x = torch.tensor([-10.0, 0.5, 0.25, 0.0, 10.0], dtype=torch.float64)  # 0.5 is a breakpoint
    assert torch.allclose(relu_pwl(x, a, b, F), _direct(x, a, b, F))


@pytest.mark.parametrize("m", [2, 19])
def test_gradient_in_the_input_matches_direct(m):
    g = torch.Generator().manual_seed(m)
    a, b = torch.randn(16, generator=g, dtype=torch.float64), torch.randn(16, generator=g, dtype=torch.float64)
    F = torch.randn(16, m, generator=g, dtype=torch.float64)
    x = ((torch.rand(2, 5, 5, generator=g, dtype=torch.float64) - 0.5) * 8).requires_grad_()
    w = torch.randn(2, 5, 5, m, generator=g, dtype=torch.float64)
    (gr,) = torch.autograd.grad((_direct(x, a, b, F) * w).sum(), [x])
    (go,) = torch.autograd.grad((relu_pwl(x, a, b, F) * w).sum(), [x])
    assert torch.allclose(gr, go, atol=1e-9)


def test_float32_tables_keep_their_dtype_and_sums():
    g = torch.Generator().manual_seed(3)
    a, b = torch.randn(64, generator=g), torch.randn(64, generator=g)
    F = torch.randn(64, 19, generator=g, requires_grad=True)
    x = (torch.rand(4, 30, 30, generator=g) - 0.5) * 8
    out = relu_pwl(x, a, b, F)
    assert out.dtype == torch.float32
    w = torch.randn(out.shape, generator=g)
    (gr,) = torch.autograd.grad((_direct(x, a, b, F) * w).sum(), [F])
    (go,) = torch.autograd.grad((out * w).sum(), [F])
    assert go.dtype == torch.float32 and torch.allclose(gr, go, rtol=1e-4, atol=1e-3)
