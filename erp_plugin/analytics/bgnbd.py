"""The BG/NBD model of repeat buying (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way").

While alive a client buys at rate λ (gamma(r, α) across clients); after each
purchase it drops out with probability p (beta(a, b) across clients). From
each client's x (repeat purchases), t_x (time of the last one) and T (time
observed), all measured from its first purchase, the four parameters are fitted
by maximum likelihood, and each client gets P(alive) and the purchases to
expect in the next t.

Written here from the paper's formulas with scipy rather than taken from a
package (docs/decisions.md, *Churn: BG/NBD written from the paper*). The
likelihood is evaluated once per distinct (x, t_x, T), weighted by how many
clients share it, and maximised over the logarithms of the parameters (so they
stay positive) by L-BFGS-B with the analytic gradient. Expected purchases use Euler's transformation of
the hypergeometric term, which keeps it finite for clients with many purchases.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..i18n import msg

MIN_REPEAT_BUYERS = 10  # fewer clients with a repeat purchase cannot say how often clients buy again
LOG_BOUND = 18.0  # parameters are fitted within e^±18; a fit on the bound is not identified by the data


class NotFitted(ValueError):
    """The histories cannot identify the model; the message (a msgid) says why, for a person."""


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    clients: int

    @property
    def parameters(self) -> tuple[float, float, float, float]:
        return self.r, self.alpha, self.a, self.b


def log_likelihood(params, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Each client's log-likelihood (the paper's equation 6), for parameters (r, α, a, b)."""
    return _likelihood(params, _Histories(x, t_x, T), gradient=False)[0]


class _Histories:
    """x, t_x, T as the likelihood uses them: the gamma-function terms depend on x alone, which takes few
    distinct values, so they are computed once per distinct x and spread by index."""

    def __init__(self, x, t_x, T):
        self.x, self.t_x, self.T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
        self.levels, self.at = np.unique(self.x, return_inverse=True)
        self.repeat = self.x > 0


def _likelihood(params, h: _Histories, gradient: bool):
    """The log-likelihood per history and, with ``gradient``, its derivatives by log r, log α, log a, log b
    (rows), from the digamma function: what lets L-BFGS-B converge in tens of evaluations."""
    from scipy.special import digamma, gammaln

    r, alpha, a, b = params
    x, t_x, T, levels, at, repeat = h.x, h.t_x, h.T, h.levels, h.at, h.repeat
    head = (gammaln(r + levels) - gammaln(r) + r * np.log(alpha)
            + gammaln(a + b) + gammaln(b + levels) - gammaln(b) - gammaln(a + b + levels))[at]
    log_T, log_tx = np.log(alpha + T), np.log(alpha + t_x)
    still = -(r + x) * log_T  # alive through T
    b_x = np.where(repeat, b + x - 1, 1.0)
    dropped = np.where(repeat, np.log(a) - np.log(b_x) - (r + x) * log_tx, -np.inf)  # dropped out after t_x
    total = np.logaddexp(still, dropped)
    if not gradient:
        return head + total, None
    w_still, w_dropped = np.exp(still - total), np.exp(dropped - total)  # the two cases' shares, summing to 1
    d_r = (digamma(r + levels) - digamma(r))[at] + np.log(alpha) - w_still * log_T - w_dropped * log_tx
    d_alpha = r / alpha - (r + x) * (w_still / (alpha + T) + w_dropped / (alpha + t_x))
    shared = (digamma(a + b) - digamma(a + b + levels))[at]
    d_a = shared + w_dropped / a
    d_b = shared + (digamma(b + levels) - digamma(b))[at] - w_dropped / b_x
    return head + total, np.vstack([r * d_r, alpha * d_alpha, a * d_a, b * d_b])


@dataclass(frozen=True)
class Fitted:
    model: BgNbd
    at_bound: tuple[str, ...]  # parameters the likelihood pushed to e^±LOG_BOUND: a limit of the model


def fit(x, t_x, T) -> Fitted:
    """The maximum-likelihood parameters over all clients; NotFitted when the data cannot give them.

    A parameter may run to its bound when the data sit at a limit of the model (no client ever drops
    out: b → ∞; every client buys at the same rate: r, α → ∞ together); the fit is then still the
    best there is, and ``at_bound`` names the parameters, for a warning."""
    from scipy.optimize import minimize

    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    repeat_buyers = int((x > 0).sum())
    if repeat_buyers < MIN_REPEAT_BUYERS:
        raise NotFitted(msg("only 1 client bought on more than one day; the churn model needs at least {needed} to "
                            "tell how often clients come back", needed=MIN_REPEAT_BUYERS) if repeat_buyers == 1 else
                        msg("only {count} clients bought on more than one day; the churn model needs at least {needed} "
                            "to tell how often clients come back", count=repeat_buyers, needed=MIN_REPEAT_BUYERS))
    histories, weights = np.unique(np.column_stack([x, t_x, T]), axis=0, return_counts=True)
    grouped = _Histories(*histories.T)
    total = float(weights.sum())

    def objective(logs):
        values, slopes = _likelihood(np.exp(logs), grouped, gradient=True)
        return -float(weights @ values) / total, -(slopes @ weights) / total

    start = np.log([1.0, max(float(np.mean(T)), 1e-3), 1.0, 1.0])
    result = minimize(objective, start, jac=True, method="L-BFGS-B", bounds=[(-LOG_BOUND, LOG_BOUND)] * 4,
                      options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-9})
    value = -result.fun * total
    if not np.isfinite(value) or not np.all(np.isfinite(result.x)):
        raise NotFitted(msg("the likelihood has no finite maximum on these purchase histories; more clients, or a "
                            "longer history, are needed"))
    r, alpha, a, b = (float(v) for v in np.exp(result.x))
    at_bound = tuple(name for name, v in zip(("r", "alpha", "a", "b"), result.x) if abs(v) >= LOG_BOUND - 1e-6)
    return Fitted(BgNbd(r, alpha, a, b, float(value), len(x)), at_bound)


def _dropout_odds(model: BgNbd, x, t_x, T) -> np.ndarray:
    """log of a/(b+x−1) × ((α+T)/(α+t_x))^(r+x) for x > 0; −inf for x = 0 (a client who never came
    back cannot have dropped out after a repeat purchase)."""
    r, alpha, a, b = model.parameters
    odds = np.full(len(x), -np.inf)
    repeat = x > 0
    xr = x[repeat]
    odds[repeat] = (np.log(a) - np.log(b + xr - 1)
                    + (r + xr) * (np.log(alpha + T[repeat]) - np.log(alpha + t_x[repeat])))
    return odds


def p_alive(model: BgNbd, x, t_x, T) -> np.ndarray:
    """P(alive at T | x, t_x, T) (the paper's equation 11)."""
    from scipy.special import expit

    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    return expit(-_dropout_odds(model, x, t_x, T))


def expected_purchases(model: BgNbd, t: float, x, t_x, T) -> np.ndarray:
    """E[purchases in (T, T + t] | x, t_x, T] (the paper's equation 10), through Euler's transformation
    2F1(r+x, b+x; c; z) = (1−z)^(c−r−b−2x+…) 2F1(c−r−x, c−b−x; c; z) with c = a+b+x−1, which turns
    ((α+T)/(α+T+t))^(r+x) 2F1(…) into (1−z)^(a−1) 2F1(a+b−1−r, a−1; a+b+x−1; z): finite for any x."""
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    r, alpha, a, b = model.parameters
    z = t / (alpha + T + t)
    c = a + b + x - 1
    bracket = 1 - (1 - z) ** (a - 1) * hypergeometric(a + b - 1 - r, a - 1, c, z)
    return c / (a - 1) * bracket * p_alive(model, x, t_x, T)


SERIES_TERMS = 100_000


def hypergeometric(A: float, B: float, C: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Gauss's 2F1(A, B; C; z) for 0 ≤ z < 1: scipy's, and where scipy gives up (it returns NaN when A is
    in the millions, as at the model's limit r, α → ∞) the series itself, Σ (A)ₙ(B)ₙ/(C)ₙ zⁿ/n!, summed
    term by term over all such clients at once until every term is below 1e-17 of its sum."""
    from scipy.special import hyp2f1

    C, z = np.broadcast_arrays(np.asarray(C, dtype=np.float64), np.asarray(z, dtype=np.float64))
    value = np.array(hyp2f1(A, B, C, z), dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(value))
    if len(bad):
        c, w = C[bad], z[bad]
        term, total = np.ones(len(bad)), np.ones(len(bad))
        for n in range(SERIES_TERMS):  # a loop over the series' terms, each over every client left
            term = term * ((A + n) * (B + n) / ((c + n) * (n + 1))) * w
            total += term
            if np.all(np.abs(term) <= 1e-17 * np.abs(total)):
                break
        value[bad] = total
    return value
