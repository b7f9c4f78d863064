"""Tests for coopsim.metrics against hand-computed and textbook values."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
import torch

from coopsim import metrics
from coopsim.metrics import (
    WELFARE_METRICS,
    all_metrics,
    atkinson,
    contribution_rate,
    efficiency,
    equality,
    equality_times_productivity,
    gini,
    nash_welfare,
    productivity,
    rawls_welfare,
    theil,
    utilitarian_welfare,
)

BACKENDS = ["numpy", "torch"]
INEQUALITY = {"gini": gini, "atkinson": atkinson, "theil": theil}


def make(backend: str, values, dtype=None):
    """Build the input for one backend (float64 unless a dtype is given)."""
    if backend == "numpy":
        return np.asarray(values, dtype=dtype or np.float64)
    return torch.as_tensor(np.asarray(values), dtype=dtype or torch.float64)


def value(result, backend: str) -> np.ndarray:
    """Check that the result has the input's kind and return it as a numpy array."""
    if backend == "numpy":
        assert isinstance(result, (np.ndarray, np.floating)), type(result)
        return np.asarray(result)
    assert isinstance(result, torch.Tensor), type(result)
    return result.detach().cpu().numpy()


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


# ------------------------------------------------------------------------------------------
# Hand-computed values
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0, 0, 0, 1], 0.75),
        ([1, 2, 3, 4], 0.25),
        ([1, 1, 1, 1], 0.0),
        ([0, 0, 0, 0], 0.0),
        ([5], 0.0),
        ([0, 1], 0.5),
    ],
)
def test_gini_values(backend, values, expected):
    assert value(gini(make(backend, values)), backend) == pytest.approx(expected, abs=1e-12)


def test_gini_matches_pairwise_definition(backend):
    x = np.random.RandomState(0).exponential(size=(7, 13))
    pairwise = np.abs(x[:, :, None] - x[:, None, :]).sum(axis=(1, 2))
    expected = pairwise / (2 * x.shape[1] ** 2 * x.mean(axis=1))
    np.testing.assert_allclose(value(gini(make(backend, x)), backend), expected, rtol=1e-12)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0, 0, 0, 1], 0.0),
        ([1, 2, 3, 4], 1 - 0.25 * 4 / 3),
        ([1, 1, 1, 1], 1.0),
        ([0, 0, 0, 0], 1.0),
        ([3], 1.0),
        ([0], 1.0),
    ],
)
def test_equality_values(backend, values, expected):
    assert value(equality(make(backend, values)), backend) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("values", "epsilon", "expected"),
    [
        ([1, 4], 1.0, 1 - 2 / 2.5),  # geometric mean 2, mean 2.5
        ([1, 4], 0.5, 1 - ((1 + 2) / 2) ** 2 / 2.5),  # power mean of order 1/2 is 2.25
        ([1, 4], 2.0, 1 - (2 / (1 + 1 / 4)) / 2.5),  # harmonic mean 1.6
        ([1, 4], 0.0, 0.0),  # no inequality aversion
        ([1, 1, 1], 0.5, 0.0),
        ([1, 1, 1], 1.0, 0.0),
        ([0, 2], 1.0, 1.0),  # a zero value with epsilon >= 1
        ([0, 2], 3.0, 1.0),
        ([0, 2], 0.5, 1 - (math.sqrt(2) / 2) ** 2 / 1.0),  # power mean 0.5, mean 1
        ([0, 0], 0.5, 0.0),  # all zero
        ([0, 0], 1.0, 0.0),
        ([0, 0], 2.0, 0.0),
    ],
)
def test_atkinson_values(backend, values, epsilon, expected):
    result = value(atkinson(make(backend, values), epsilon=epsilon), backend)
    assert result == pytest.approx(expected, abs=1e-12)


def test_atkinson_default_epsilon_is_one_half(backend):
    x = make(backend, [1, 4])
    assert value(atkinson(x), backend) == pytest.approx(0.1, abs=1e-12)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1, 1], 0.0),
        ([0, 2], math.log(2)),
        ([0, 0, 0], 0.0),
        ([7], 0.0),
        ([1, 3], 0.5 * (0.5 * math.log(0.5) + 1.5 * math.log(1.5))),
    ],
)
def test_theil_values(backend, values, expected):
    assert value(theil(make(backend, values)), backend) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("n", [2, 3, 5, 10])
def test_theil_maximum_is_log_n(backend, n):
    x = np.zeros(n)
    x[n // 2] = 3.0
    assert value(theil(make(backend, x)), backend) == pytest.approx(math.log(n), abs=1e-12)


@pytest.mark.parametrize(
    ("values", "expected"),
    [([1, 4], 2.0), ([1, 0], 0.0), ([2, 2, 2], 2.0), ([1, -4], 0.0), ([-1, -4], 0.0)],
)
def test_nash_welfare_values(backend, values, expected):
    result = value(nash_welfare(make(backend, values)), backend)
    assert result == pytest.approx(expected, abs=1e-12)


def test_nash_welfare_large_population_does_not_overflow(backend):
    x = make(backend, np.full(10_000, 1e3))
    assert value(nash_welfare(x), backend) == pytest.approx(1e3, rel=1e-12)


def test_rawls_utilitarian_productivity(backend):
    x = make(backend, [3.0, -1.0, 2.0, 4.0])
    assert value(rawls_welfare(x), backend) == pytest.approx(-1.0)
    assert value(utilitarian_welfare(x), backend) == pytest.approx(8.0)
    assert value(productivity(x), backend) == pytest.approx(8.0)
    # The mean utility is productivity / N.
    assert value(productivity(x), backend) / 4 == pytest.approx(2.0)


def test_equality_times_productivity_values(backend):
    x = make(backend, [[1, 2, 3, 4], [0, 0, 0, 1], [2, 2, 2, 2]])
    expected = [(1 - 0.25 * 4 / 3) * 10, 0.0, 8.0]
    np.testing.assert_allclose(value(equality_times_productivity(x), backend), expected)


# ------------------------------------------------------------------------------------------
# Cooperation metrics
# ------------------------------------------------------------------------------------------


def test_contribution_rate_values(backend):
    assert value(contribution_rate(make(backend, [20, 0, 10, 10]), 20), backend) == 0.5
    assert value(contribution_rate(make(backend, [20, 20]), 20), backend) == 1.0
    assert value(contribution_rate(make(backend, [0, 0, 0]), 20.0), backend) == 0.0


def test_contribution_rate_broadcasts_endowment(backend):
    c = make(backend, [[20, 0, 10, 10], [5, 5, 5, 5]])
    per_game = make(backend, [[20], [10]])
    np.testing.assert_allclose(value(contribution_rate(c, per_game), backend), [0.5, 0.5])
    per_agent = make(backend, [20, 10, 20, 10])
    expected = [(1 + 0 + 0.5 + 1) / 4, (0.25 + 0.5 + 0.25 + 0.5) / 4]
    np.testing.assert_allclose(value(contribution_rate(c, per_agent), backend), expected)


def test_contribution_rate_accepts_numpy_endowment_with_tensor_contributions():
    result = contribution_rate(torch.tensor([[20.0, 0.0]]), np.array([[20.0]]))
    assert isinstance(result, torch.Tensor)
    assert result.dtype == torch.float32
    assert result.tolist() == [0.5]


def test_efficiency_floats_arrays_tensors():
    assert efficiency(30.0, 40.0) == pytest.approx(0.75)
    assert efficiency(3, 4) == pytest.approx(0.75)
    np.testing.assert_allclose(efficiency(np.array([10.0, 40.0]), 40.0), [0.25, 1.0])
    np.testing.assert_allclose(efficiency([10.0, 40.0], [20.0, 40.0]), [0.5, 1.0])
    t = efficiency(torch.tensor([10.0, 40.0]), 40.0)
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float32
    assert t.tolist() == [0.25, 1.0]
    t = efficiency(torch.tensor([10.0, 40.0]), torch.tensor([20.0, 40.0]))
    assert t.tolist() == [0.5, 1.0]
    t = efficiency(np.array([10.0, 40.0]), torch.tensor(40.0))
    assert isinstance(t, torch.Tensor)
    np.testing.assert_allclose(t.numpy(), [0.25, 1.0])
    t = efficiency(20.0, torch.tensor([40.0, 20.0]))
    assert isinstance(t, torch.Tensor) and t.tolist() == [0.5, 1.0]
    t = efficiency(torch.tensor([3, 6]), 4)  # integer payoffs still divide exactly
    assert t.is_floating_point() and t.tolist() == [0.75, 1.5]


def test_efficiency_public_goods_free_riding():
    # Linear public-goods game: N=4, endowment 20, multiplier 1.6 (MPCR 0.4). Full contribution
    # pays everybody 1.6 * 20 = 32; full free-riding pays 20 each.
    n, endowment, multiplier = 4, 20.0, 1.6
    optimum = n * multiplier * endowment
    assert efficiency(n * endowment, optimum) == pytest.approx(1 / multiplier)
    assert efficiency(optimum, optimum) == 1.0


# ------------------------------------------------------------------------------------------
# Batching, kinds and dtypes
# ------------------------------------------------------------------------------------------


def _rows(x: np.ndarray) -> list[np.ndarray]:
    return list(x.reshape(-1, x.shape[-1]))


@pytest.mark.parametrize("name", sorted(WELFARE_METRICS))
@pytest.mark.parametrize("shape", [(6, 5), (3, 4, 5), (2, 1)])
def test_batched_equals_row_by_row(backend, name, shape):
    rng = np.random.RandomState(1)
    x = rng.exponential(size=shape)
    x.reshape(-1, shape[-1])[0] = 0.0  # an all-zero row
    if shape[-1] > 1:
        x.reshape(-1, shape[-1])[1, 0] = 0.0  # a row with one zero
    fn = WELFARE_METRICS[name]
    batched = value(fn(make(backend, x)), backend)
    assert batched.shape == shape[:-1]
    per_row = [value(fn(make(backend, row)), backend) for row in _rows(x)]
    assert all(r.shape == () for r in per_row)
    np.testing.assert_allclose(batched.reshape(-1), per_row, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("epsilon", [0.0, 0.5, 1.0, 2.0])
def test_atkinson_batched_equals_row_by_row(backend, epsilon):
    x = np.random.RandomState(2).exponential(size=(2, 3, 4))
    x[0, 0, 1] = 0.0
    batched = value(atkinson(make(backend, x), epsilon=epsilon), backend)
    per_row = [value(atkinson(make(backend, r), epsilon=epsilon), backend) for r in _rows(x)]
    np.testing.assert_allclose(batched.reshape(-1), per_row, rtol=1e-12, atol=1e-15)


def test_contribution_rate_batched_equals_row_by_row(backend):
    c = np.random.RandomState(3).uniform(0, 20, size=(2, 3, 4))
    batched = value(contribution_rate(make(backend, c), 20.0), backend)
    per_row = [value(contribution_rate(make(backend, r), 20.0), backend) for r in _rows(c)]
    np.testing.assert_allclose(batched.reshape(-1), per_row, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(WELFARE_METRICS))
def test_numpy_result_kinds_and_dtypes(name):
    fn = WELFARE_METRICS[name]
    one = fn(np.array([1.0, 2.0, 3.0]))
    assert isinstance(one, np.floating) and one.dtype == np.float64
    assert fn(np.array([[1, 2, 3]])).dtype == np.float64  # integers give float64
    batch = fn(np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32))
    assert isinstance(batch, np.ndarray) and batch.dtype == np.float32 and batch.shape == (2,)
    assert fn([[1.0, 2.0]]).shape == (1,)  # array-likes are treated as numpy


@pytest.mark.parametrize("name", sorted(WELFARE_METRICS))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_torch_result_kinds_and_dtypes(name, dtype):
    fn = WELFARE_METRICS[name]
    result = fn(torch.tensor([[1.0, 2.0, 3.0]], dtype=dtype))
    assert isinstance(result, torch.Tensor)
    assert result.dtype == dtype and result.shape == (1,) and result.device.type == "cpu"
    integer = fn(torch.tensor([1, 2, 3]))
    assert integer.dtype == torch.get_default_dtype() and integer.shape == ()


def test_read_only_numpy_input_is_accepted():
    x = np.array([0.0, 0.0, 0.0, 1.0])
    x.flags.writeable = False
    assert gini(x) == 0.75


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", sorted(WELFARE_METRICS))
def test_cuda_tensors_stay_on_device(name):
    x = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]], device="cuda")
    result = WELFARE_METRICS[name](x)
    assert result.device == x.device
    expected = WELFARE_METRICS[name](x.cpu().numpy())
    np.testing.assert_allclose(result.cpu().numpy(), expected, rtol=1e-5, atol=1e-6)


def test_all_metrics(backend):
    x = make(backend, [[1, 2, 3, 4], [0, 0, 0, 1]])
    out = all_metrics(x)
    assert set(out) == {
        "gini",
        "equality",
        "atkinson",
        "theil",
        "productivity",
        "utilitarian_welfare",
        "nash_welfare",
        "rawls_welfare",
        "equality_times_productivity",
    }
    for name, result in out.items():
        np.testing.assert_allclose(value(result, backend), value(WELFARE_METRICS[name](x), backend))
    np.testing.assert_allclose(value(out["gini"], backend), [0.25, 0.75])
    np.testing.assert_allclose(value(out["atkinson"], backend), value(atkinson(x, 0.5), backend))


# ------------------------------------------------------------------------------------------
# Properties on random data
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "fn"),
    [
        ("gini", gini),
        ("atkinson(0.5)", lambda x: atkinson(x, 0.5)),
        ("atkinson(1)", lambda x: atkinson(x, 1.0)),
        ("atkinson(2)", lambda x: atkinson(x, 2.0)),
    ],
)
def test_scale_invariant_and_bounded(backend, name, fn):
    rng = np.random.RandomState(1234)
    x = rng.exponential(scale=10.0, size=(50, 8))
    x[rng.uniform(size=x.shape) < 0.2] = 0.0  # some zero holdings
    x[0] = 0.0
    base = value(fn(make(backend, x)), backend)
    assert np.all(base >= -1e-12) and np.all(base <= 1 + 1e-12), name
    for scale in (1e-3, 7.0, 1e6):
        scaled = value(fn(make(backend, x * scale)), backend)
        np.testing.assert_allclose(scaled, base, rtol=1e-9, atol=1e-12, err_msg=name)


def test_theil_scale_invariant_and_bounded(backend):
    x = np.random.RandomState(99).exponential(size=(40, 6))
    base = value(theil(make(backend, x)), backend)
    assert np.all(base >= -1e-12) and np.all(base <= math.log(6) + 1e-12)
    np.testing.assert_allclose(value(theil(make(backend, 3.5 * x)), backend), base, rtol=1e-9)


def test_equality_times_productivity_gradient_is_finite_with_zeros():
    x = torch.tensor([[0.0, 1.0, 2.0, 5.0], [0.0, 0.0, 0.0, 0.0]], requires_grad=True)
    objective = equality_times_productivity(x).sum()
    objective.backward()
    assert torch.isfinite(x.grad).all()
    # Moving wealth from the richest to the poorest agent raises equality at fixed productivity.
    assert x.grad[0, 0] > x.grad[0, 3]


@pytest.mark.parametrize("fn", [gini, theil, atkinson, nash_welfare, equality])
def test_gradients_match_finite_differences(fn):
    x = torch.tensor([[1.0, 2.0, 3.5], [0.5, 4.0, 4.5]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(fn, (x,))


# ------------------------------------------------------------------------------------------
# Validation
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(WELFARE_METRICS))
def test_rejects_zero_dimensional_and_empty_agent_axis(backend, name):
    fn = WELFARE_METRICS[name]
    with pytest.raises(ValueError, match="0-dimensional"):
        fn(make(backend, 3.0))
    with pytest.raises(ValueError, match="empty"):
        fn(make(backend, np.zeros((2, 0))))


def test_contribution_rate_rejects_empty_agent_axis(backend):
    with pytest.raises(ValueError, match="empty"):
        contribution_rate(make(backend, np.zeros((0,))), 20)


@pytest.mark.parametrize("name", ["gini", "equality", "atkinson", "theil"])
def test_inequality_rejects_negative_values(backend, name):
    with pytest.raises(ValueError, match="non-negative"):
        WELFARE_METRICS[name](make(backend, [[1.0, 2.0], [-1.0, 3.0]]))


def test_atkinson_rejects_negative_epsilon(backend):
    with pytest.raises(ValueError, match="epsilon"):
        atkinson(make(backend, [1.0, 2.0]), epsilon=-0.5)


def test_empty_batch_gives_empty_result(backend):
    for fn in WELFARE_METRICS.values():
        assert value(fn(make(backend, np.zeros((0, 3)))), backend).shape == (0,)


def test_module_doctests():
    result = doctest.testmod(metrics, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


def test_fehr_schmidt_utility_by_hand():
    # Fehr and Schmidt (1999), eq. 1: U_i = x_i - a/(N-1) sum max(x_j - x_i, 0)
    #                                       - b/(N-1) sum max(x_i - x_j, 0)
    payoff = torch.tensor([[10.0, 2.0, 2.0, 2.0]])
    aversion = torch.tensor([[[1.0, 0.6], [1.0, 0.6], [4.0, 0.6], [0.0, 0.0]]])
    got = metrics.fehr_schmidt_utility(payoff, aversion)
    # the rich seat is 8 above each of three: 10 - 0.6 x 24 / 3 = 5.2; a poor seat is 8
    # below one: 2 - alpha x 8 / 3; the last seat cares only about its own payoff
    assert got[0].tolist() == pytest.approx([5.2, 2 - 8 / 3, 2 - 32 / 3, 2.0])
    equal = metrics.fehr_schmidt_utility(torch.full((1, 4), 3.0), aversion)
    assert equal[0].tolist() == pytest.approx([3.0] * 4)  # nobody envies, nobody feels guilt


def test_fehr_schmidt_utility_refuses_what_it_cannot_compare():
    with pytest.raises(ValueError, match="N >= 2"):
        metrics.fehr_schmidt_utility(torch.ones(2, 1), torch.zeros(2, 1, 2))
    with pytest.raises(ValueError, match=r"\(alpha, beta\)"):
        metrics.fehr_schmidt_utility(torch.ones(2, 4), torch.zeros(2, 4, 3))
