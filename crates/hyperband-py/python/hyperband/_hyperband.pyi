"""Type stubs of the compiled core (see the docstrings in the module for details)."""

import builtins
from typing import Any, Callable, Dict, List, Optional, Sequence, Type, Union

Value = Union[int, float, str]
Metric = Union[int, float, str, bool, None]
Result = Union[float, int, Dict[str, Metric], "Failed"]

class StorageError(Exception):
    """The study's database refused an operation (unreadable, another definition, not replayable)."""

class Stopped(Exception):
    """Raise it when ``job.should_stop()`` is true (Optuna's ``TrialPruned``)."""

class Failed:
    """A result that is a failure; the study records the reason and goes on."""

    reason: str
    def __init__(self, reason: str) -> None: ...

class Space:
    """A search space; each method returns a new space with one more parameter."""

    def __init__(self) -> None: ...
    def float(
        self,
        name: str,
        low: builtins.float,
        high: builtins.float,
        *,
        log: bool = False,
        step: Optional[builtins.float] = None,
        when: Optional[str] = None,
    ) -> Space:
        """A real parameter in [low, high], uniform or log-uniform; `step` a grid; `when` a condition."""
    def int(
        self,
        name: str,
        low: builtins.int,
        high: builtins.int,
        *,
        log: bool = False,
        step: Optional[builtins.int] = None,
        when: Optional[str] = None,
    ) -> Space:
        """An integer parameter in [low, high], both included."""
    def categorical(self, name: str, choices: List[str], *, when: Optional[str] = None) -> Space:
        """One of a list of labels."""
    def fixed(self, name: str, value: Value) -> Space:
        """A parameter with one value: in every configuration, not searched."""
    def names(self) -> List[str]:
        """The parameters' names, in order."""
    def __len__(self) -> builtins.int: ...

class Job:
    """One evaluation: train `config` up to `budget`, continuing from `resume_from`."""

    @property
    def id(self) -> int: ...
    @property
    def trial(self) -> int: ...
    @property
    def config(self) -> Dict[str, Value]: ...
    @property
    def budget(self) -> float: ...
    @property
    def resume_from(self) -> float: ...
    @property
    def bracket(self) -> int: ...
    @property
    def rung(self) -> int: ...
    @property
    def attempt(self) -> int: ...
    @property
    def checkpoint_dir(self) -> str:
        """The trial's checkpoint folder (created on first access)."""
    def report(self, value: builtins.float, step: builtins.float) -> None:
        """The objective's value after training to budget `step`; in stop mode, told to the study."""
    def should_stop(self) -> bool:
        """Whether to stop training now (the study stopped the trial, or the budget is reached)."""

class Study:
    """An ask/tell study in memory or in a SQLite / PostgreSQL store."""

    def __init__(
        self,
        space: Space,
        *,
        scheduler: str = "hyperband",
        sampler: str = "random",
        min_budget: float = 1.0,
        max_budget: float = 81.0,
        eta: int = 3,
        seed: int = 0,
        storage: Optional[str] = None,
        name: Optional[str] = None,
        n_configs: Optional[int] = None,
        max_brackets: Optional[int] = None,
        bracket_sizes: str = "algorithm",
        resumable: bool = False,
        max_retries: int = 0,
        mode: str = "promote",
        direction: str = "minimize",
    ) -> None: ...
    @staticmethod
    def load(name: str, storage: str) -> Study:
        """Opens a stored study by name, whatever created it."""
    def enqueue(self, config: Dict[str, Value]) -> None:
        """Evaluates config as the next new trial, before the sampler's."""
    def ask(self) -> Optional[Job]:
        """The next job, or None when the study is done or waits for untold jobs."""
    def tell(self, job: Job, result: Result, *, resumed: Optional[bool] = None) -> Optional[Job]:
        """Records a job's result: a loss, a dict with `loss`, or Failed(reason).

        In stop mode, the trial's next rung to train on to, or None: stop the trial."""
    def optimize(
        self,
        func: Callable[[Job], Result],
        *,
        n_workers: int = 1,
        max_total_budget: Optional[float] = None,
        max_trials: Optional[int] = None,
        timeout: Optional[float] = None,
        catch: Union[Type[BaseException], Sequence[Type[BaseException]], None] = None,
        callbacks: Optional[Sequence[Callable[[Study, Dict[str, Any]], Any]]] = None,
    ) -> None:
        """Runs func on n_workers threads until the study is done or a limit is reached.

        An exception from func is raised unless its class is in `catch`."""
    def stop(self) -> None:
        """Ends a running optimize once its running jobs are done."""
    @property
    def best(self) -> Optional[Dict[str, Any]]:
        """trial, config, budget, value, loss and metrics of the best result at the largest budget."""
    @property
    def best_params(self) -> Dict[str, Any]:
        """The best result's configuration (Optuna's name); ValueError before any result."""
    @property
    def best_value(self) -> float:
        """The best result's value, in the study's direction (Optuna's name); ValueError before any result."""
    def trials(self) -> List[Dict[str, Any]]:
        """One dict per trial."""
    def jobs(self) -> List[Dict[str, Any]]:
        """One dict per job, in the order they were issued."""
    @property
    def stats(self) -> Dict[str, float]: ...
    @property
    def is_done(self) -> bool: ...
    @property
    def name(self) -> str: ...
    @property
    def storage(self) -> Optional[str]: ...
    @property
    def run_dir(self) -> str:
        """The study's folder (checkpoints/trial-N); private and temporary in memory."""

def param_importances(study: Study, *, quantile: builtins.float = 0.1) -> Dict[str, builtins.float]:
    """Each parameter's share of the importance (PED-ANOVA), largest first; ValueError with too few results."""

def _cli(argv: List[str], relaunch: List[str]) -> int:
    """Runs the ``hyperband`` command line argv (program name first) in this process; its exit status."""
