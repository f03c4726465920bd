"""Milliseconds per training epoch of the MNIST perceptron in PyTorch (CPU), the baseline for
crates/workloads/examples/mlp_epoch.rs.

Same work as the Rust side: the 10,000 bundled digits (pixels / 255 as float32), one epoch =
100 minibatches of 100 in a fresh random order, network Linear(784, H) -> ReLU -> Linear(H, 10),
softmax cross-entropy, plain SGD with lr 0.01 and weight decay (L2) 1e-4. One untimed warm-up
epoch, then the median and minimum of the timed epochs. Prints one JSON object per setting.

    python mlp_epoch.py [--hidden 100,1000] [--threads 1,2] [--epochs 7] [--batch 100]
"""

import argparse
import gzip
import json
import pathlib
import statistics
import time

import numpy as np
import torch

DATA = pathlib.Path(__file__).resolve().parents[2] / "crates" / "workloads" / "data"


def read_idx(path, magic):
    raw = gzip.decompress(path.read_bytes())
    assert int.from_bytes(raw[:4], "big") == magic, f"{path}: bad magic"
    ndim = magic & 0xFF
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hidden", default="100,1000")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--epochs", type=int, default=7)
    ap.add_argument("--batch", type=int, default=100)
    args = ap.parse_args()

    images = read_idx(DATA / "mnist-10k-images-idx3-ubyte.gz", 0x803)
    labels = read_idx(DATA / "mnist-10k-labels-idx1-ubyte.gz", 0x801)
    x_all = torch.from_numpy(images.reshape(-1, 784).astype(np.float32) / 255.0)
    y_all = torch.from_numpy(labels.astype(np.int64))
    n, batch = x_all.shape[0], args.batch

    torch.set_num_interop_threads(1)
    for hidden in [int(h) for h in args.hidden.split(",")]:
        for threads in [int(t) for t in args.threads.split(",")]:
            torch.set_num_threads(threads)
            torch.manual_seed(1)
            model = torch.nn.Sequential(
                torch.nn.Linear(784, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 10)
            )
            loss_fn = torch.nn.CrossEntropyLoss()
            opt = torch.optim.SGD(model.parameters(), lr=0.01, weight_decay=1e-4)

            def epoch():
                order = torch.randperm(n)
                for i in range(0, n - batch + 1, batch):
                    idx = order[i : i + batch]
                    xb, yb = x_all[idx], y_all[idx]
                    opt.zero_grad(set_to_none=True)
                    loss = loss_fn(model(xb), yb)
                    loss.backward()
                    opt.step()

            epoch()  # warm-up
            ms = []
            for _ in range(args.epochs):
                start = time.perf_counter()
                epoch()
                ms.append((time.perf_counter() - start) * 1e3)
            print(
                json.dumps(
                    {
                        "impl": f"pytorch-{torch.__version__}",
                        "hidden": hidden,
                        "threads": threads,
                        "batch": batch,
                        "samples_per_epoch": n,
                        "epochs": args.epochs,
                        "ms_per_epoch_median": statistics.median(ms),
                        "ms_per_epoch_min": min(ms),
                    }
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
