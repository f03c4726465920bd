"""LightGBM printing its evaluation each round through lgb.log_evaluation(1); the record is
the dict filled by lgb.record_evaluation (what LGBMModel.evals_result_ holds in the sklearn
API). --setup default: a regression, one unnamed valid set, default metric (l2).
--setup named: a binary task, valid set named "val", metrics binary_logloss and auc."""
import argparse

import lightgbm as lgb

from common import digits, regression, write_record


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--setup", choices=["default", "named"], default="default")
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--record", default=None)
    a = p.parse_args()

    result = {}
    callbacks = [lgb.log_evaluation(1), lgb.record_evaluation(result)]
    if a.setup == "default":
        (xt, yt), (xv, yv) = regression()
        dtrain = lgb.Dataset(xt, label=yt)
        params = {"objective": "regression", "learning_rate": 0.1, "num_leaves": 15,
                  "seed": a.seed, "num_threads": 1}
        lgb.train(params, dtrain, num_boost_round=a.rounds,
                  valid_sets=[lgb.Dataset(xv, label=yv, reference=dtrain)], callbacks=callbacks)
    else:
        (xt, yt), (xv, yv) = digits(binary=True)
        dtrain = lgb.Dataset(xt, label=yt)
        params = {"objective": "binary", "metric": ["binary_logloss", "auc"],
                  "learning_rate": 0.1, "num_leaves": 15, "seed": a.seed, "num_threads": 1}
        lgb.train(params, dtrain, num_boost_round=a.rounds,
                  valid_sets=[lgb.Dataset(xv, label=yv, reference=dtrain)],
                  valid_names=["val"], callbacks=callbacks)
    write_record(a.record, result)


if __name__ == "__main__":
    main()
