#!/usr/bin/env python3
"""Loads a prune output folder's model.pt with torch.jit.load and checks its
accuracy on the first N Fashion-MNIST test images against report.json.

usage: check_model_pt.py OUTPUT_DIR FASHION_MNIST_DIR N [image|sequence]
(sequence: each image as 28 time steps of 28 features, for LSTMs and encoders)
"""
import gzip
import json
import os
import sys

import numpy as np
import torch


def read_idx(path):
    opener = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def find(folder, stem):
    for name in (stem, stem + ".gz"):
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    raise SystemExit(f"{folder}: no {stem}[.gz]")


def main():
    out, data_dir, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    report = json.load(open(os.path.join(out, "report.json")))
    images = read_idx(find(data_dir, "t10k-images-idx3-ubyte"))[:n]
    labels = read_idx(find(data_dir, "t10k-labels-idx1-ubyte"))[:n]
    layout = sys.argv[4] if len(sys.argv) > 4 else "image"
    x = torch.from_numpy(images.astype(np.float32) / 255.0)
    if layout == "image":
        x = x.unsqueeze(1)
    y = torch.from_numpy(labels.astype(np.int64))
    model = torch.jit.load(os.path.join(out, "model.pt"))
    model.eval()
    with torch.no_grad():
        accuracy = (model(x).argmax(1) == y).float().mean().item()
    stated = report["pruned"]["torchscript_accuracy"]
    print(f"model.pt accuracy in Python: {accuracy:.4f}; report.json: {stated:.4f}")
    if abs(accuracy - stated) > 0.005:
        raise SystemExit("accuracy differs from the report by more than 0.5 points")


if __name__ == "__main__":
    main()
