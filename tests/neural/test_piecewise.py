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
