"""A LightningModule on the 8x8 digits that logs val_loss (prog_bar=True) once per epoch.
--progress-bar default: no bar configured, so Lightning picks its default (RichProgressBar when
the `rich` package is importable, as it is here since keras depends on it; TQDMProgressBar
otherwise). --progress-bar tqdm: an explicit TQDMProgressBar(). --progress-bar none:
enable_progress_bar=False and a callback that prints the metrics at the end of each epoch, as
users often do.
The record is trainer.callback_metrics, copied by a callback at the end of each training epoch
(after that epoch's validation), with trainer.current_epoch."""
import argparse

import lightning as L
from lightning.pytorch.callbacks import TQDMProgressBar
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from common import digits, write_record


class Digits(L.LightningModule):
    def __init__(self, lr=0.01):
        super().__init__()
        self.lr = lr
        self.net = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self.net(x), y)
        self.log("train_loss", loss, on_step=False, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self.net(x)
        self.log("val_loss", F.cross_entropy(logits, y), prog_bar=True)
        self.log("val_acc", (logits.argmax(1) == y).float().mean(), prog_bar=True)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


class Recorder(L.Callback):
    def __init__(self, echo):
        self.rows = []
        self.echo = echo

    def on_train_epoch_end(self, trainer, pl_module):
        m = {k: float(v) for k, v in trainer.callback_metrics.items()}
        self.rows.append({"epoch": trainer.current_epoch, "metrics": m})
        if self.echo:
            print(f"epoch {trainer.current_epoch}: val_loss={m['val_loss']:.6f} "
                  f"val_acc={m['val_acc']:.4f} train_loss={m['train_loss']:.6f}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--progress-bar", choices=["default", "tqdm", "none"], default="default")
    p.add_argument("--root", default="lightning-work")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--record", default=None)
    a = p.parse_args()

    L.seed_everything(a.seed)
    torch.set_num_threads(1)
    (xt, yt), (xv, yv) = digits(n_train=1280, n_valid=400)
    train = DataLoader(TensorDataset(torch.from_numpy(xt), torch.from_numpy(yt)),
                       batch_size=64, shuffle=True)
    valid = DataLoader(TensorDataset(torch.from_numpy(xv), torch.from_numpy(yv)), batch_size=100)
    rec = Recorder(echo=a.progress_bar == "none")
    trainer = L.Trainer(max_epochs=a.epochs, accelerator="cpu", devices=1,
                        default_root_dir=a.root,
                        callbacks=[rec] + ([TQDMProgressBar()] if a.progress_bar == "tqdm" else []),
                        enable_progress_bar=a.progress_bar != "none",
                        enable_checkpointing=False)
    trainer.fit(Digits(), train, valid)
    write_record(a.record, {"epochs": rec.rows})


if __name__ == "__main__":
    main()
