#!/usr/bin/python3
"""Generate scikit-learn golden cases for thor::gp (tests/gp/golden/*.json).

Run with the system interpreter that has scikit-learn 1.2:

    /usr/bin/python3 tests/gp/make_golden.py

Each case fits a GaussianProcessRegressor(normalize_y=True) on targets shaped
like per-layer energy curves (joules per iteration over channel counts), then
records, in thor's parameterisation:

  * inputs X (one point per row) and targets y;
  * sklearn's fitted hyperparameters: length scales in raw input units, the
    signal variance (ConstantKernel), and the noise variance on normalised
    targets (WhiteKernel noise_level, or alpha when there is no WhiteKernel);
  * whether sklearn's predictive std includes that noise (WhiteKernel cases do,
    because kernel_.diag() includes it; alpha never is);
  * sklearn's log_marginal_likelihood_value_ (on normalised targets);
  * test points with sklearn's predictive mean and std.

The optimisation problem is the same as thor's defaults: thor scales inputs
to [0, 1], so sklearn's length-scale bounds are thor's [1e-3, 1e3] times the
input range of each dimension; signal variance in [1e-5, 1e5]; WhiteKernel
noise in [1e-10, 10] (thor's noise bounds on normalised targets).

Cases are kept well conditioned so that a 1e-8 relative comparison is
meaningful: test points whose predictive variance is tiny relative to the
signal variance (cancellation), or whose prediction moves by more than 1e-11
under a 1e-14 relative perturbation of the covariance, are dropped.
"""
import json
import os
import sys

import numpy as np
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, Matern, WhiteKernel

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "golden")

LS_LO, LS_HI = 1e-3, 1e3
SV_LO, SV_HI = 1e-5, 1e5
NOISE_LO, NOISE_HI = 1e-10, 10.0
ALPHA = 1e-10


def energy_1d(rng, n, noisy):
    c = np.sort(rng.choice(np.arange(1, 513), size=n, replace=False)).astype(float)
    # Linear growth plus the staircase of tile quantisation (64-channel tiles).
    e = 0.02 + 1e-4 * c + 1e-7 * c**2 + 1.5e-2 * np.ceil(c / 64.0)
    if noisy:
        e = e * (1.0 + 0.02 * rng.standard_normal(n))
    return c[:, None], e


def energy_2d(rng, n, noisy):
    grid = np.array([(a, b) for a in range(1, 257) for b in range(1, 257)], dtype=float)
    idx = rng.choice(len(grid), size=n, replace=False)
    X = grid[idx]
    cin, cout = X[:, 0], X[:, 1]
    e = (0.01 + 2e-7 * cin * cout + 2e-5 * cout + 1e-5 * cin + 4e-3 * np.ceil(cout / 32.0)
         + 2e-3 * np.ceil(cin / 64.0))
    if noisy:
        e = e * (1.0 + 0.02 * rng.standard_normal(n))
    return X, e


def base_kernel(name, ls, ls_bounds):
    if name == "rbf":
        return RBF(length_scale=ls, length_scale_bounds=ls_bounds)
    nu = {"matern12": 0.5, "matern32": 1.5, "matern52": 2.5}[name]
    return Matern(length_scale=ls, length_scale_bounds=ls_bounds, nu=nu)


def predict_numpy(K, Ks, kss_diag, y_n, noise_pred, y_mean, y_std):
    L = np.linalg.cholesky(K)
    alpha = np.linalg.solve(L.T, np.linalg.solve(L, y_n))
    mean = Ks @ alpha
    V = np.linalg.solve(L, Ks.T)
    var = kss_diag - np.einsum("ij,ij->j", V, V) + noise_pred
    return y_std * mean + y_mean, np.sqrt(np.maximum(var, 0)) * y_std


def make_case(name, kernel_name, dim, n, noisy, seed):
    rng = np.random.default_rng(seed)
    X, y = (energy_1d if dim == 1 else energy_2d)(rng, n, noisy)
    ranges = X.max(axis=0) - X.min(axis=0)
    ls0 = list(0.5 * ranges)
    ls_bounds = [(LS_LO * r, LS_HI * r) for r in ranges]
    k = ConstantKernel(1.0, (SV_LO, SV_HI)) * base_kernel(kernel_name, ls0, ls_bounds)
    if noisy:
        k = k + WhiteKernel(1e-4, (NOISE_LO, NOISE_HI))
    gpr = GaussianProcessRegressor(
        kernel=k,
        alpha=0.0 if noisy else ALPHA,
        normalize_y=True,
        n_restarts_optimizer=10,
        random_state=seed,
    )
    gpr.fit(X, y)
    kern = gpr.kernel_
    if noisy:
        prod, white = kern.k1, kern.k2
        noise = float(white.noise_level)
    else:
        prod, white = kern, None
        noise = ALPHA
    sv = float(prod.k1.constant_value)
    ls = np.atleast_1d(prod.k2.length_scale).astype(float)
    if ls.size == 1 and dim > 1:
        ls = np.repeat(ls, dim)

    # Test points: inside and slightly outside the training range.
    lo, hi = X.min(axis=0), X.max(axis=0)
    span = hi - lo
    T = lo + (rng.uniform(-0.1, 1.1, size=(60, dim)) * span)
    mean, std = gpr.predict(T, return_std=True)

    # Keep only test points that are well posed for a 1e-8 comparison.
    y_mean, y_std = gpr._y_train_mean, gpr._y_train_std
    y_n = (y - y_mean) / y_std
    signal = prod  # C * base kernel, no noise
    K = signal(X) + noise * np.eye(n)
    Ks = signal(T, X)
    kss = signal.diag(T)
    noise_pred = noise if noisy else 0.0
    m0, s0 = predict_numpy(K, Ks, kss, y_n, noise_pred, y_mean, y_std)
    pert = np.random.default_rng(seed + 1).standard_normal(K.shape) * 1e-15
    pert = (pert + pert.T) / 2
    m1, s1 = predict_numpy(K * (1 + pert), Ks, kss, y_n, noise_pred, y_mean, y_std)
    latent_var = (s0 / y_std) ** 2 - noise_pred
    conds = [
        latent_var > 1e-6 * sv,
        np.abs(m1 - m0) <= 1e-10 * np.abs(m0),
        np.abs(s1 - s0) <= 1e-10 * np.abs(s0),
        np.abs(m0 - mean) <= 1e-10 * np.abs(mean),
        np.abs(s0 - std) <= 1e-10 * np.abs(std),
    ]
    keep = np.logical_and.reduce(conds)
    diag = [int(c.sum()) for c in conds]
    keep_idx = np.nonzero(keep)[0][:20]
    if len(keep_idx) < 8:
        print(f"{name}: only {len(keep_idx)} well-posed test points {diag}; skipped",
              file=sys.stderr)
        return None
    T, mean, std = T[keep_idx], mean[keep_idx], std[keep_idx]
    cond = np.linalg.cond(K)
    case = {
        "name": name,
        "kernel": kernel_name,
        "dim": dim,
        "noise_kernel": bool(noisy),
        "X": X.tolist(),
        "y": y.tolist(),
        "sklearn": {
            "length_scale": ls.tolist(),
            "signal_variance": sv,
            "noise_variance": noise,
            "std_includes_noise": bool(noisy),
            "log_marginal_likelihood": float(gpr.log_marginal_likelihood_value_),
            "y_mean": float(y_mean),
            "y_std": float(y_std),
            "theta": gpr.kernel_.theta.tolist(),
        },
        "X_test": T.tolist(),
        "mean": mean.tolist(),
        "std": std.tolist(),
    }
    print(
        f"{name}: n={n} lml={gpr.log_marginal_likelihood_value_:.6f} sv={sv:.4g} "
        f"ls={np.round(ls, 3).tolist()} noise={noise:.3g} cond={cond:.2e} tests={len(keep_idx)}",
        file=sys.stderr,
    )
    return case


def main():
    os.makedirs(OUT, exist_ok=True)
    kernels = ["matern12", "matern32", "matern52", "rbf"]
    sizes = {
        (1, False): [5, 8, 12, 16],
        (2, False): [9, 16, 20, 30],
        (1, True): [40, 60, 100, 200],
        (2, True): [30, 50, 80, 120],
    }
    cases = []
    seed = 1000
    for ki, kname in enumerate(kernels):
        for dim in (1, 2):
            for noisy in (False, True):
                n = sizes[(dim, noisy)][ki]
                name = f"{kname}_{dim}d_{'noise' if noisy else 'exact'}_n{n}"
                seed += 1
                case = make_case(name, kname, dim, n, noisy, seed)
                if case is not None:
                    cases.append(case)
    path = os.path.join(OUT, "sklearn_cases.json")
    with open(path, "w") as f:
        json.dump(
            {
                "generator": "tests/gp/make_golden.py",
                "sklearn_version": __import__("sklearn").__version__,
                "bounds": {
                    "length_scale_normalised": [LS_LO, LS_HI],
                    "signal_variance": [SV_LO, SV_HI],
                    "noise_variance": [NOISE_LO, NOISE_HI],
                    "alpha_without_white_kernel": ALPHA,
                },
                "cases": cases,
            },
            f,
            indent=None,
            separators=(",", ":"),
        )
        f.write("\n")
    print(f"wrote {len(cases)} cases to {path} ({os.path.getsize(path)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
