#!/usr/bin/env python3
"""Writes the fuzz targets' seed inputs into fuzz/seeds/<target>/: small valid files, so that the
fuzzer starts from inputs that reach past the first checks (libFuzzer's inputs are 4 kB at
most, and every lab model has 784 inputs, so the model seeds have one hidden unit)."""
import gzip, json, os, struct

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'seeds')


def write(target, name, data):
    os.makedirs(os.path.join(here, target), exist_ok=True)
    with open(os.path.join(here, target, name), 'wb') as f:
        f.write(data)


def plab(values, sparse):
    layers = [{"name": "dense0", "kind": "Dense", "weight": [784, 1], "bias": 1},
              {"name": "dense1", "kind": "Dense", "weight": [1, 10], "bias": 10}]
    header = {"arch": {"kind": "mlp", "hidden": [1]}, "precision": "f16", "layers": layers, "meta": {"seed": 1}}
    if sparse:
        header["encoding"] = "sparse"
        mask = bytearray((len(values) + 7) // 8)
        for i, v in enumerate(values):
            if v:
                mask[i // 8] |= 1 << (i % 8)
        body = bytes(mask) + b''.join(struct.pack('<e', v) for v in values if v)
    else:
        body = b''.join(struct.pack('<e', v) for v in values)
    h = json.dumps(header, separators=(',', ':')).encode()
    return b'PRUNELAB' + struct.pack('<II', 2 if sparse else 1, len(h)) + h + body


values = [((i * 37) % 11 - 5) / 8 for i in range(784 + 1 + 10 + 10)]
write('plab', 'dense.plab', plab(values, False))
write('plab', 'sparse.plab', plab([v if i % 9 == 0 else 0.0 for i, v in enumerate(values)], True))

images = struct.pack('>IIII', 0x803, 1, 28, 28) + bytes((i * 7) % 256 for i in range(784))
labels = struct.pack('>II', 0x801, 3) + bytes([0, 9, 4])
write('idx', 'images.idx', images)
write('idx', 'labels.idx', labels)
write('idx', 'labels.idx.gz', gzip.compress(labels, mtime=0))

write('drawing', 'pad.json', json.dumps({"side": 280, "strokes": [{"size": 18, "points": [[40, 50], [200, 60], [150, 230]]}, {"size": 6, "points": [[140, 140]]}]}).encode())

# One of each options object the Lab takes (and one with a field it refuses).
options = {
    'lab.json': {"backend": "auto", "measured": {"adapter": "a", "webgpu": 100.5, "cpu": 900, "cached": True}},
    'train.json': {"model": "mlp", "epochs": 5, "batchSize": 64, "lr": 0.001, "limit": 60000, "recipe": "report", "seed": 7, "evaluate": False, "augment": True, "validation": 5000},
    'prune.json': {"scope": "lamp", "connected": True, "variant": "report", "reconstruct": 1024},
    'prune-default.json': {"reconstruct": True},
    'preview.json': {"method": "neuron", "scope": "sensitivity", "variant": "full"},
    'sweep.json': {"methods": ["weight", "neuron"], "sparsities": [0, 25, 50, 99.5], "finetuneEpochs": 1, "reconstruct": 64, "scopes": ["global", "layer"], "connected": False, "variant": "full"},
    'finetune.json': {"lr": 0.0005, "batchSize": 32, "limit": 1000, "images": 2000},
}
for name, value in options.items():
    write('options', name, json.dumps(value, separators=(',', ':')).encode())
