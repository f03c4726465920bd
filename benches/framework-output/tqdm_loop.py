"""A plain training loop (softmax regression in numpy on the 8x8 digits) under a tqdm bar
over the epochs, reporting the validation loss with bar.set_postfix(val_loss=...).
Each epoch is padded to at least --epoch-seconds so that tqdm's mininterval (0.1 s) does
not drop redraws. The record is the list of values handed to set_postfix, with the epoch."""
import argparse
import time

import numpy as np
from tqdm import tqdm

from common import digits, write_record


def loss_and_grad(w, x, y):
    z = x @ w
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(len(y)), y]).mean()
    p[np.arange(len(y)), y] -= 1
    return float(loss), x.T @ p / len(y)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--lr", type=float, default=0.5)
    ap.add_argument("--epoch-seconds", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--record", default=None)
    a = ap.parse_args()

    (xt, yt), (xv, yv) = digits()
    rng = np.random.RandomState(a.seed)
    w = rng.normal(scale=0.01, size=(64, 10))
    rows = []
    bar = tqdm(range(1, a.epochs + 1), desc="train")
    for epoch in bar:
        start = time.monotonic()
        for idx in np.array_split(rng.permutation(len(xt)), 20):
            _, g = loss_and_grad(w, xt[idx], yt[idx])
            w -= a.lr * g
        val_loss, _ = loss_and_grad(w, xv, yv)
        bar.set_postfix(val_loss=val_loss)
        rows.append([epoch, val_loss])
        time.sleep(max(0.0, a.epoch_seconds - (time.monotonic() - start)))
    bar.close()
    write_record(a.record, {"val_loss": rows})


if __name__ == "__main__":
    main()
