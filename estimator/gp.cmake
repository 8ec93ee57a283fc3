# thor::gp — Gaussian Process regression on Eigen (no LibTorch). Owned by the GP work (issue 3).
