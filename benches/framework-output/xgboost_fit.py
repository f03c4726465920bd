"""XGBoost printing its evaluation each round. --api sklearn: XGBClassifier.fit(eval_set=...,
verbose=True), record evals_result(). --api native: xgb.train(evals=[(dvalid, "eval")],
verbose_eval=1) with two metrics, record the evals_result dict it fills."""
import argparse

import xgboost as xgb

from common import digits, write_record


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--api", choices=["sklearn", "native"], default="sklearn")
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--record", default=None)
    a = p.parse_args()

    if a.api == "sklearn":
        (xt, yt), (xv, yv) = digits(binary=True)
        clf = xgb.XGBClassifier(n_estimators=a.rounds, max_depth=3, learning_rate=0.3,
                                eval_metric="logloss", random_state=a.seed, n_jobs=1)
        clf.fit(xt, yt, eval_set=[(xv, yv)], verbose=True)
        write_record(a.record, clf.evals_result())
    else:
        (xt, yt), (xv, yv) = digits()
        dtrain = xgb.DMatrix(xt, label=yt)
        dvalid = xgb.DMatrix(xv, label=yv)
        params = {"objective": "multi:softprob", "num_class": 10, "max_depth": 3, "eta": 0.3,
                  "eval_metric": ["mlogloss", "merror"], "seed": a.seed, "nthread": 1}
        result = {}
        xgb.train(params, dtrain, num_boost_round=a.rounds,
                  evals=[(dtrain, "train"), (dvalid, "eval")], evals_result=result,
                  verbose_eval=1)
        write_record(a.record, result)


if __name__ == "__main__":
    main()
