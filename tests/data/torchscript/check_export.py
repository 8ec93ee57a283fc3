"""Runs thor's exported TorchScript models in Python PyTorch.

usage: check_export.py DIR

DIR is what the C++ suite test_torchscript_export wrote (CTest runs it first,
as the fixture torchscript_export): for every model family NAME, DIR/NAME.pt
(Model::export_torchscript), DIR/NAME.input.f32 and DIR/NAME.output.f32 (a
batch and the C++ model's eval-mode outputs, raw float32) and a line
"NAME INPUT_DIMS OUTPUT_DIMS" in DIR/manifest.txt.

Checks, for every family, that torch.jit.load runs the file and gives the C++
outputs (atol 1e-4), and that the block submodules' parameters load into the
torch.nn modules they are named after (LSTM, TransformerEncoderLayer and,
when torchvision is installed, BasicBlock and Bottleneck), which then compute
what the exported submodule computes. Exits 1 listing every failure.
"""
import os
import sys

import torch
from torch import nn

FAMILIES = ["resnet8", "resnet20", "har_cnn", "lstm_fmnist", "transformer_fmnist",
            "bottleneck", "embedding", "conv1d_pool"]
ATOL = 1e-4


def read_floats(path, dims):
    with open(path, "rb") as f:
        data = bytearray(f.read())
    return torch.frombuffer(data, dtype=torch.float32).reshape(dims)


def torch_peer(sub):
    """The torch.nn module an exported submodule mirrors and a sample input, or None."""
    cls = sub.original_name
    params = dict(sub.named_parameters())
    if cls == "LSTM":
        peer = nn.LSTM(sub.input_size, sub.hidden_size, sub.num_layers, batch_first=True)
        return (lambda x: peer(x)[0]), peer, torch.randn(2, 5, sub.input_size)
    if cls == "TransformerEncoderLayer":
        d = params["self_attn.in_proj_weight"].shape[1]
        peer = nn.TransformerEncoderLayer(d, sub.self_attn.num_heads,
                                          params["linear1.weight"].shape[0], dropout=0.0,
                                          batch_first=True)
        return peer, peer, torch.randn(2, 5, d)
    if cls in ("BasicBlock", "Bottleneck"):
        try:
            from torchvision.models import resnet
        except ImportError:
            return None
        c_in = params["conv1.weight"].shape[1]
        if cls == "BasicBlock":
            out, stride = params["conv1.weight"].shape[0], sub.conv1.stride[0]
            planes = out
        else:
            out, stride = params["conv3.weight"].shape[0], sub.conv2.stride[0]
            planes = params["conv1.weight"].shape[0]  # thor's mid width; no 4x expansion
        down = None
        if hasattr(sub, "downsample"):
            down = nn.Sequential(nn.Conv2d(c_in, out, 1, stride, bias=False), nn.BatchNorm2d(out))
        if cls == "BasicBlock":
            peer = resnet.BasicBlock(c_in, planes, stride, down)
        else:
            peer = resnet.Bottleneck(c_in, planes, stride, down, base_width=64)
            peer.conv3 = nn.Conv2d(planes, out, 1, bias=False)
            peer.bn3 = nn.BatchNorm2d(out)
        return peer, peer, torch.randn(2, c_in, 8, 8)
    return None


def check_peers(name, model):
    """Failures of the block submodules against their torch.nn peers."""
    failures = []
    for child_name, sub in model.named_children():
        found = torch_peer(sub)
        if found is None:
            continue
        run, peer, x = found
        where = f"{name}.{child_name} ({sub.original_name})"
        missing, unexpected = peer.load_state_dict(sub.state_dict(), strict=False)
        missing = [k for k in missing if not k.endswith("num_batches_tracked")]
        if missing or unexpected:
            failures.append(f"{where}: missing {missing}, unexpected {unexpected}")
            continue
        peer.eval()
        with torch.no_grad():
            diff = (run(x) - sub(x)).abs().max().item()
        print(f"  {where}: torch.nn peer max abs diff {diff:.2e}")
        if not diff < ATOL:
            failures.append(f"{where}: differs from torch.nn's by {diff}")
    return failures


def main(directory):
    manifest = os.path.join(directory, "manifest.txt")
    if not os.path.exists(manifest):
        sys.exit(f"{manifest} missing: run the C++ suite test_torchscript_export first")
    cases = {}
    with open(manifest) as f:
        for line in f:
            name, x_dims, y_dims = line.split()
            cases[name] = ([int(d) for d in x_dims.split(",")], [int(d) for d in y_dims.split(",")])
    failures = [f"{name}: not written by the C++ suite" for name in FAMILIES if name not in cases]
    torch.manual_seed(0)
    for name, (x_dims, y_dims) in cases.items():
        model = torch.jit.load(os.path.join(directory, name + ".pt")).eval()
        x = read_floats(os.path.join(directory, name + ".input.f32"), x_dims)
        want = read_floats(os.path.join(directory, name + ".output.f32"), y_dims)
        with torch.no_grad():
            got = model(x)
        if got.shape != want.shape:
            failures.append(f"{name}: output {list(got.shape)}, C++ {list(want.shape)}")
            continue
        diff = (got - want).abs().max().item()
        print(f"{name}: max abs diff to C++ {diff:.2e}")
        if not diff < ATOL:
            failures.append(f"{name}: Python's outputs differ from C++'s by {diff}")
        failures += check_peers(name, model)
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
