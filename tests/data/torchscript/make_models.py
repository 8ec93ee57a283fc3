"""Scripts PyTorch / torchvision models for thor's TorchScript importer tests.

usage: make_models.py OUT_DIR

Writes (making OUT_DIR if need be) OUT_DIR/NAME.pt for every model below (torch.jit.script, random
weights: nothing is downloaded) and OUT_DIR/params.txt, one line per model:
"NAME PARAMS", PyTorch's count of trainable parameters, which the C++ test
compares with Architecture::params() of the mapped architecture.

  resnet18           torchvision resnet18(num_classes=10)        input 3,32,32
  resnet_bottleneck  torchvision ResNet(Bottleneck, [1,1,1,1])   input 3,32,32
  transformer        Linear(28->64), 2 encoder layers, mean, Linear(10)
                                                     input 28,28 (sequence)
  lstm               LSTM(9->32, 2 layers), x[:, -1], Linear(6)
                                                     input 128,9 (sequence)
  lstm_mean          the same with x.mean(1) in place of x[:, -1]
  conv1d_har         Conv1d / MaxPool1d / AdaptiveAvgPool1d net  input 9,128 (channels)
  tokens             Embedding(1000, 32), LSTM(64), x[:, -1], Linear(2)
                                                     input 50 (tokens)
refused by the importer:
  gru                a GRU (no thor block)
  lstm_time_major    LSTM with batch_first=False
  encoder_norm_first TransformerEncoderLayer with norm_first=True
  encoder_gelu       TransformerEncoderLayer with activation="gelu"
  conv1d_traced      conv1d_har saved by torch.jit.trace, which drops stride and padding
"""
import os
import sys
import warnings

import torch
import torchvision
from torch import nn
from torchvision.models.resnet import Bottleneck, ResNet

# TransformerEncoderLayer declares a 'batch_first' constant it does not set.
warnings.filterwarnings("ignore", message=".*found in ScriptModule constants.*")


class TransformerNet(nn.Module):
    def __init__(self, **layer_args):
        super().__init__()
        self.embed = nn.Linear(28, 64)
        layer = nn.TransformerEncoderLayer(64, 4, 128, batch_first=True, **layer_args)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.encoder(self.embed(x))
        return self.fc(x.mean(1))  # mean over time: not a module


class RecurrentNet(nn.Module):
    def __init__(self, cell=nn.LSTM, layers=2, batch_first=True):
        super().__init__()
        self.rnn = cell(9, 32, layers, batch_first=batch_first)
        self.fc = nn.Linear(32, 6)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out[:, -1])  # the last time step: not a module


class MeanLSTMNet(RecurrentNet):
    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out.mean(1))  # the mean over time instead


class TokenNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(1000, 32)
        self.lstm = nn.LSTM(32, 64, batch_first=True)
        self.fc = nn.Linear(64, 2)

    def forward(self, tokens):
        out, _ = self.lstm(self.embedding(tokens))
        return self.fc(out[:, -1])


def conv1d_har():
    return nn.Sequential(
        nn.Conv1d(9, 32, 5, padding=2), nn.BatchNorm1d(32), nn.ReLU(), nn.MaxPool1d(2),
        nn.Conv1d(32, 64, 3, stride=2), nn.ReLU(),
        nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(64, 6))


MODELS = {
    "resnet18": lambda: torchvision.models.resnet18(num_classes=10),
    "resnet_bottleneck": lambda: ResNet(Bottleneck, [1, 1, 1, 1], num_classes=10),
    "transformer": TransformerNet,
    "lstm": RecurrentNet,
    "lstm_mean": MeanLSTMNet,
    "conv1d_har": conv1d_har,
    "tokens": TokenNet,
    "gru": lambda: RecurrentNet(nn.GRU, 1),
    "lstm_time_major": lambda: RecurrentNet(batch_first=False),
    "encoder_norm_first": lambda: TransformerNet(norm_first=True),
    "encoder_gelu": lambda: TransformerNet(activation="gelu"),
}


def main(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    lines = []
    for name, make in MODELS.items():
        model = make().eval()
        torch.jit.script(model).save(f"{out}/{name}.pt")
        params = sum(p.numel() for p in model.parameters() if p.requires_grad)
        lines.append(f"{name} {params}\n")
    # torch.jit.trace keeps the weights but drops the hyperparameters (stride, ...).
    torch.jit.trace(conv1d_har().eval(), torch.randn(1, 9, 128)).save(f"{out}/conv1d_traced.pt")
    with open(f"{out}/params.txt", "w") as f:
        f.writelines(lines)
    print(f"wrote {len(MODELS)} models to {out}")


if __name__ == "__main__":
    main(sys.argv[1])
