"""The ``hyperband`` command that comes with the package: the same command line as the
binary that cargo builds (crates/hyperband-cli), run in this process by the native module,
so that ``pip install`` brings both the library and the command."""

from __future__ import annotations

import signal
import sys
from typing import NoReturn, Optional, Sequence

from ._hyperband import _cli


def main(argv: Optional[Sequence[str]] = None) -> NoReturn:
    """Runs ``hyperband`` with ``argv`` (default ``sys.argv[1:]``) and exits with its status."""
    args = sys.argv[1:] if argv is None else list(argv)
    # Ctrl-C belongs to the command, as in the binary. Python's own handler only sets a flag
    # that no Python code would look at until the command returns (a server or a study
    # would not stop); with the default back, `hyperband run` installs its handler (finish
    # the running jobs, stop at a second Ctrl-C) and other commands end at once.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.stdout.flush()
    sys.stderr.flush()
    # Usage messages name the program `hyperband`, however it was started; a command that
    # starts itself again (`bench storage` workers) does so through this interpreter.
    sys.exit(_cli(["hyperband", *args], [sys.executable, "-m", "hyperband"]))
