"""hyperband.param_importances: Optuna's get_param_importances by PED-ANOVA, from the core."""

import json
import math
import subprocess

import pytest

import hyperband


def space():
    return hyperband.Space().float("x", 0.0, 1.0).float("y", 0.0, 1.0).float("z", 0.0, 1.0)


def f(config):
    """Strongly on x, weakly on y, not at all on z."""
    return 10 * (config["x"] - 0.3) ** 2 + (config["y"] - 0.6) ** 2


def random_search(seed, n=300, direction="minimize", sign=1.0):
    study = hyperband.Study(space(), scheduler="full-budget", max_budget=1, seed=seed, direction=direction)
    study.optimize(lambda job: sign * f(job.config), max_trials=n)
    return study


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_a_strong_a_weak_and_an_irrelevant_parameter_rank_in_that_order(seed):
    study = random_search(seed)
    imp = hyperband.param_importances(study)
    assert list(imp) == ["x", "y", "z"], imp
    assert imp["x"] > imp["y"] > imp["z"]
    assert imp["z"] < 0.05, imp
    assert math.isclose(sum(imp.values()), 1.0)
    assert all(isinstance(v, float) for v in imp.values())
    # The same results give the same numbers.
    assert hyperband.param_importances(study) == imp


def test_the_quantile_is_a_keyword_and_changes_what_top_means():
    study = random_search(5)
    wide = hyperband.param_importances(study, quantile=0.3)
    # Among the best 30% x matters still more; y, weak, is within the noise of z there.
    assert list(wide)[0] == "x" and wide["x"] > 0.9, wide
    assert wide != hyperband.param_importances(study)
    with pytest.raises(TypeError):
        hyperband.param_importances(study, 0.3)
    for q in [0.0, 1.0, 1.5]:
        with pytest.raises(ValueError, match="quantile must be strictly between 0 and 1"):
            hyperband.param_importances(study, quantile=q)


def test_maximizing_the_negated_function_gives_the_same_importances():
    minimized = hyperband.param_importances(random_search(7))
    maximized = hyperband.param_importances(random_search(7, direction="maximize", sign=-1.0))
    assert maximized == minimized


def test_too_few_results_is_a_value_error_that_says_how_many():
    study = hyperband.Study(space(), scheduler="full-budget", max_budget=1)
    with pytest.raises(ValueError, match="^parameter importance needs at least 20 results at one budget; the study has no result yet$"):
        hyperband.param_importances(study)
    study.optimize(lambda job: f(job.config), max_trials=12)
    with pytest.raises(ValueError, match=r"the most at any budget is 12 \(at budget 1\)$"):
        hyperband.param_importances(study)
    with pytest.raises(TypeError):
        hyperband.param_importances("not a study")


def report_data(binary, url, name, tmp_path):
    """The data `hyperband report` embeds in its page for that study."""
    out = tmp_path / "report.html"
    done = subprocess.run(
        [binary, "report", "--storage", url, "--study", name, "-o", str(out)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    html = out.read_text()
    start = html.index('<script type="application/json" id="data">') + len('<script type="application/json" id="data">')
    return json.loads(html[start : html.index("</script>", start)])


def test_a_stored_multi_fidelity_study_uses_the_largest_budget_with_enough_results(tmp_path, hyperband_bin):
    url = f"sqlite:{tmp_path}/s.db"
    study = hyperband.Study(space(), storage=url, name="s", max_budget=9, eta=3, seed=3)
    study.optimize(lambda job: f(job.config) + 1 / job.budget, max_trials=60)
    imp = hyperband.param_importances(study)
    assert list(imp)[0] == "x", imp
    # The same numbers from the study as stored, in a new object.
    assert hyperband.param_importances(hyperband.Study.load("s", url)) == imp
    # And in the report of the command line, which also says which results it used.
    shown = report_data(hyperband_bin, url, "s", tmp_path)["importance"]
    assert {p["name"]: p["importance"] for p in shown["params"]} == imp
    assert [p["name"] for p in shown["params"]] == list(imp)
    counts = {}
    for job in study.jobs():
        if job["state"] == "finished":
            counts[job["budget"]] = counts.get(job["budget"], 0) + 1
    enough = max(b for b, n in counts.items() if n >= 20)
    assert shown["budget"] == enough and shown["results"] == counts[enough]
    # Too few results at budget 9: the importances come from a lower budget.
    assert counts[9.0] < 20 and enough < 9, counts
