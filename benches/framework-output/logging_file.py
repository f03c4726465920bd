"""A training loop (numpy softmax regression on the 8x8 digits) that reports through the
standard logging module into a file: basicConfig(filename=..., format="%(asctime)s
%(levelname)s %(message)s"), one `epoch N val_loss=X.XXXX` line per epoch. The record is the
unrounded values that were logged. Each epoch is padded to at least --epoch-seconds, so that
when the lines reach the file can be seen."""
import argparse
import logging
import time

import numpy as np

from common import digits, write_record
from tqdm_loop import loss_and_grad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--lr", type=float, default=0.5)
    ap.add_argument("--log-file", default="train.log")
    ap.add_argument("--epoch-seconds", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--record", default=None)
    a = ap.parse_args()

    logging.basicConfig(filename=a.log_file, level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s")
    log = logging.getLogger("train")
    (xt, yt), (xv, yv) = digits()
    rng = np.random.RandomState(a.seed)
    w = rng.normal(scale=0.01, size=(64, 10))
    log.info("starting: %d train, %d validation examples, lr=%s", len(xt), len(xv), a.lr)
    rows = []
    for epoch in range(1, a.epochs + 1):
        start = time.monotonic()
        losses = []
        for idx in np.array_split(rng.permutation(len(xt)), 20):
            loss, g = loss_and_grad(w, xt[idx], yt[idx])
            w -= a.lr * g
            losses.append(loss)
        val_loss, _ = loss_and_grad(w, xv, yv)
        log.info("epoch %d train_loss=%.4f val_loss=%.4f", epoch, np.mean(losses), val_loss)
        rows.append([epoch, val_loss])
        time.sleep(max(0.0, a.epoch_seconds - (time.monotonic() - start)))
    log.warning("done after %d epochs", a.epochs)
    write_record(a.record, {"val_loss": rows})


if __name__ == "__main__":
    main()
