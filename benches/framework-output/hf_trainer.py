"""The Hugging Face Trainer on a tiny BERT classifier built from a config in code (no
download: HF_HUB_OFFLINE=1). Inputs are the 8x8 digits, each pixel (0..16) one token.
eval_strategy="epoch", logging_strategy="epoch". The record is trainer.state.log_history."""
import argparse
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from transformers import (BertConfig, BertForSequenceClassification, Trainer,  # noqa: E402
                          TrainingArguments, set_seed)

from common import digits, write_record  # noqa: E402


class TokenDigits(torch.utils.data.Dataset):
    def __init__(self, x, y):
        self.ids = torch.from_numpy(np.rint(x * 16).astype(np.int64) + 1)  # 0 is padding
        self.y = torch.from_numpy(y)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "attention_mask": torch.ones_like(self.ids[i]),
                "labels": self.y[i]}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--output-dir", default="hf-work")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--record", default=None)
    a = p.parse_args()

    set_seed(a.seed)
    torch.set_num_threads(1)
    (xt, yt), (xv, yv) = digits(n_train=640, n_valid=200)
    config = BertConfig(vocab_size=18, hidden_size=32, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=64,
                        max_position_embeddings=64, num_labels=10)
    model = BertForSequenceClassification(config)
    args = TrainingArguments(
        output_dir=a.output_dir, num_train_epochs=a.epochs, learning_rate=1e-2,
        per_device_train_batch_size=32, per_device_eval_batch_size=100,
        eval_strategy="epoch", logging_strategy="epoch", save_strategy="no",
        report_to="none", seed=a.seed, use_cpu=True, dataloader_num_workers=0)
    trainer = Trainer(model=model, args=args, train_dataset=TokenDigits(xt, yt),
                      eval_dataset=TokenDigits(xv, yv))
    trainer.train()
    write_record(a.record, {"log_history": trainer.state.log_history})


if __name__ == "__main__":
    main()
