"""Writes TorchScript models made by Python PyTorch for `estimate --torchscript` tests.

usage: make_torchscript.py OUT_DIR
  lenet.pt    LeNet-5 as torch.nn.Sequential (the layout of recipes/arch/lenet5.yaml)
  sigmoid.pt  the same with a Sigmoid, which thor cannot map
"""
import sys

import torch
from torch import nn


def lenet(act=nn.ReLU):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), act(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), act(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120), act(), nn.Linear(120, 84), act(), nn.Linear(84, 10))


out = sys.argv[1]
torch.jit.script(lenet()).save(f"{out}/lenet.pt")
torch.jit.script(lenet(nn.Sigmoid)).save(f"{out}/sigmoid.pt")
print("wrote", out)
