"""A training script whose learning curve is known: val_loss = (log10(lr) + 2)^2 / 4 + 1/epoch,
printed like Keras verbose=2, one epoch every EPOCH_SECONDS; each completed epoch is appended
to EPOCH_LOG so that the epochs really trained can be counted."""
import argparse, math, os, time

p = argparse.ArgumentParser()
p.add_argument("--lr", type=float, required=True)
p.add_argument("--epochs", type=int, required=True)
a = p.parse_args()
for epoch in range(1, a.epochs + 1):
    print(f"Epoch {epoch}/{a.epochs}")
    time.sleep(float(os.environ.get("EPOCH_SECONDS", "0.05")))
    with open(os.environ["EPOCH_LOG"], "a") as f:
        f.write(f"{os.getpid()} {epoch}\n")
    val = (math.log10(a.lr) + 2.0) ** 2 / 4.0 + 1.0 / epoch
    print(f"5/5 - 0s - loss: {val * 1.1:.4f} - val_loss: {val:.4f}")
