"""Keras 3 Model.fit on the 8x8 digits with validation data, --verbose 1 or 2.
Run with KERAS_BACKEND=torch (no TensorFlow needed). The record is History.history."""
import argparse
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402

from common import digits, write_record  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--verbose", type=int, default=1)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--record", default=None)
    a = p.parse_args()

    keras.utils.set_random_seed(a.seed)
    (xt, yt), (xv, yv) = digits(n_train=1280, n_valid=400)
    model = keras.Sequential([
        keras.Input(shape=(64,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(xt, yt, validation_data=(xv, yv), epochs=a.epochs,
                        batch_size=a.batch_size, verbose=a.verbose)
    write_record(a.record, {"history": history.history, "epoch": history.epoch})


if __name__ == "__main__":
    main()
