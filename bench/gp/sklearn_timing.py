#!/usr/bin/python3
"""scikit-learn side of bench_gp: times the same GP work as thor on the same data.

Usage: sklearn_timing.py DATA.json
DATA.json: {"X": [[...], ...], "y": [...], "queries": [[...], ...], "restarts": 8,
            "fit_repeats": 3, "single_calls": 2000}
Prints one JSON object on stdout: fit_ms, single_ns, batch_points_per_s, lml.
The caller pins BLAS/OpenMP threads through the environment.
"""
import json
import sys
import time
import warnings

import numpy as np


def main():
    with open(sys.argv[1]) as f:
        data = json.load(f)
    try:
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
        import sklearn
    except ImportError as e:
        print(json.dumps({"error": f"scikit-learn not available: {e}"}))
        return
    warnings.filterwarnings("ignore")
    X = np.asarray(data["X"], dtype=float)
    y = np.asarray(data["y"], dtype=float)
    Q = np.asarray(data["queries"], dtype=float)
    ranges = X.max(axis=0) - X.min(axis=0)
    restarts = int(data.get("restarts", 8))

    def make():
        kernel = ConstantKernel(1.0, (1e-5, 1e5)) * Matern(
            length_scale=list(0.5 * ranges),
            length_scale_bounds=[(1e-3 * r, 1e3 * r) for r in ranges],
            nu=2.5,
        ) + WhiteKernel(1e-4, (1e-10, 10.0))
        return GaussianProcessRegressor(
            kernel=kernel, normalize_y=True, alpha=0.0,
            n_restarts_optimizer=restarts - 1, random_state=0)

    fit_times = []
    for _ in range(int(data.get("fit_repeats", 3))):
        gpr = make()
        t = time.perf_counter()
        gpr.fit(X, y)
        fit_times.append(time.perf_counter() - t)

    calls = int(data.get("single_calls", 2000))
    pts = [Q[i % len(Q)][None, :] for i in range(calls)]
    t = time.perf_counter()
    for p in pts:
        gpr.predict(p)
    single_ns = (time.perf_counter() - t) / calls * 1e9

    t = time.perf_counter()
    gpr.predict(Q)
    batch = len(Q) / (time.perf_counter() - t)
    t = time.perf_counter()
    gpr.predict(Q, return_std=True)
    batch_std = len(Q) / (time.perf_counter() - t)

    print(json.dumps({
        "sklearn_version": sklearn.__version__,
        "fit_ms": float(np.median(fit_times)) * 1e3,
        "single_ns": single_ns,
        "batch_points_per_s": batch,
        "batch_std_points_per_s": batch_std,
        "lml": float(gpr.log_marginal_likelihood_value_),
    }))


if __name__ == "__main__":
    main()
