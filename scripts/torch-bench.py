#!/usr/bin/env python3
"""PyTorch's CPU figures for what `prunelab bench --json` measures, to compare on one machine.

Not a dependency of the project: run it from a scratch virtualenv that has torch (issue 14),

    python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch
    /tmp/torchenv/bin/python scripts/torch-bench.py [--data www/data] [--threads 2]

The same work as the bench: the report's MLP and CNN (src/model/), batch 64, AdamW (lr 1e-3,
weight decay 5e-4, as the default recipe), 3 warm-up batches then 40 timed ones on the first
test images; inference on the 10,000 test images in batches of 1,000. Prints one JSON object.
"""
import argparse
import gzip
import json
import struct
import time

import torch
from torch import nn


def test_images(data):
    with gzip.open(f"{data}/t10k-images-idx3-ubyte.gz", "rb") as f:
        magic, n, rows, cols = struct.unpack(">IIII", f.read(16))
        assert magic == 2051, "not an IDX image file"
        pixels = torch.frombuffer(bytearray(f.read(n * rows * cols)), dtype=torch.uint8)
    with gzip.open(f"{data}/t10k-labels-idx1-ubyte.gz", "rb") as f:
        magic, n = struct.unpack(">II", f.read(8))
        labels = torch.frombuffer(bytearray(f.read(n)), dtype=torch.uint8)
    return pixels.view(n, rows * cols).float() / 255.0, labels.long()


def mlp():
    sizes = [784, 1000, 1000, 500, 200]
    layers = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(200, 10))


def cnn():
    return nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)),
        nn.Conv2d(1, 64, 2, padding="same"), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.3),
        nn.Conv2d(64, 32, 2, padding="same"), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.3),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 10),
    )


def bench(name, model, x, y, batch=64, warm=3, steps=40):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=5e-4)
    loss_fn = nn.CrossEntropyLoss()
    model.train()

    def run(first, count):
        for i in range(first, first + count):
            xb, yb = x[i * batch:(i + 1) * batch], y[i * batch:(i + 1) * batch]
            opt.zero_grad(set_to_none=True)
            loss_fn(model(xb), yb).backward()
            opt.step()

    run(0, warm)
    t = time.perf_counter()
    run(warm, steps)
    train = steps * batch / (time.perf_counter() - t)
    model.eval()
    with torch.no_grad():
        model(x[:1000])
        t = time.perf_counter()
        for i in range(0, len(x), 1000):
            model(x[i:i + 1000])
        infer = len(x) / (time.perf_counter() - t)
    return {"model": name, "batch": batch, "train_samples_per_sec": train, "infer_images_per_sec": infer}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="www/data")
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    x, y = test_images(a.data)
    results = [bench("mlp", mlp(), x, y), bench("cnn", cnn(), x, y)]
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "results": results}))


if __name__ == "__main__":
    main()
