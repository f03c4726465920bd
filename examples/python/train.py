#!/usr/bin/env python3
"""A small training script to tune with hyperband: nothing but the standard library.

It fits a one-hidden-layer network (tanh units) to a noisy sine curve by minibatch SGD
with an L2 penalty, and reports the validation loss. hyperband runs it as

    python3 train.py --lr {lr} --l2 {l2} --hidden {hidden} --epochs {budget}

and reads the loss from the last line of standard output (a JSON object with `loss`;
other keys are kept as metrics). It checkpoints to $HYPERBAND_CHECKPOINT_DIR, so a
promoted configuration continues from where its previous rung stopped (the study file
says `resumable = true`); `"resumed": false` tells hyperband when it had to start over.
"""

import argparse
import json
import math
import os
import random
import sys


def data(seed, n):
    rng = random.Random(seed)
    xs = [rng.uniform(-3.0, 3.0) for _ in range(n)]
    return [(x, math.sin(x) + rng.gauss(0.0, 0.1)) for x in xs]


def init(hidden, seed):
    rng = random.Random(seed)
    return {
        "w1": [rng.gauss(0.0, 1.0) for _ in range(hidden)],
        "b1": [rng.gauss(0.0, 0.5) for _ in range(hidden)],
        "w2": [rng.gauss(0.0, 1.0 / math.sqrt(hidden)) for _ in range(hidden)],
        "b2": 0.0,
        "epoch": 0,
    }


def predict(m, x):
    return m["b2"] + sum(w2 * math.tanh(w1 * x + b1) for w1, b1, w2 in zip(m["w1"], m["b1"], m["w2"]))


def mse(m, points):
    return sum((predict(m, x) - y) ** 2 for x, y in points) / len(points)


def train_epoch(m, points, lr, l2, rng):
    order = list(range(len(points)))
    rng.shuffle(order)
    for i in order:
        x, y = points[i]
        hs = [math.tanh(w1 * x + b1) for w1, b1 in zip(m["w1"], m["b1"])]
        err = m["b2"] + sum(w2 * h for w2, h in zip(m["w2"], hs)) - y
        for j, h in enumerate(hs):
            g_h = err * m["w2"][j] * (1.0 - h * h)
            m["w2"][j] -= lr * (err * h + l2 * m["w2"][j])
            m["w1"][j] -= lr * (g_h * x + l2 * m["w1"][j])
            m["b1"][j] -= lr * g_h
        m["b2"] -= lr * err


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lr", type=float, required=True)
    p.add_argument("--l2", type=float, required=True)
    p.add_argument("--hidden", type=int, required=True)
    p.add_argument("--epochs", type=float, required=True)
    a = p.parse_args()

    ckpt_dir = os.environ.get("HYPERBAND_CHECKPOINT_DIR")
    ckpt = os.path.join(ckpt_dir, "model.json") if ckpt_dir else None
    resume_from = float(os.environ.get("HYPERBAND_RESUME_FROM", "0"))
    model, resumed = None, False
    if ckpt and resume_from > 0 and os.path.exists(ckpt):
        with open(ckpt) as f:
            model = json.load(f)
        resumed = model["epoch"] == round(resume_from)
        if not resumed:
            model = None
    if model is None:
        model = init(a.hidden, seed=1)

    train, val = data(0, 60), data(1, 40)
    epochs = round(a.epochs)
    while model["epoch"] < epochs:
        # The data order depends on the epoch only, so resuming equals training in one go.
        train_epoch(model, train, a.lr, a.l2, random.Random(1000 + model["epoch"]))
        model["epoch"] += 1
        loss = mse(model, train)
        if not math.isfinite(loss) or loss > 1e6:
            print(f"diverged at epoch {model['epoch']} (training loss {loss})", file=sys.stderr)
            sys.exit(3)
        print(f"epoch {model['epoch']}: training loss {loss:.5f}", file=sys.stderr)

    if ckpt:
        os.makedirs(ckpt_dir, exist_ok=True)
        with open(ckpt, "w") as f:
            json.dump(model, f)
    print(json.dumps({"loss": mse(model, val), "train_loss": mse(model, train), "resumed": resumed or resume_from == 0}))


if __name__ == "__main__":
    main()
