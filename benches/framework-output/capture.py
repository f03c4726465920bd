"""Runs each training script the ways our runner (and a person at a terminal) would, and
writes the fixtures under crates/hyperband/tests/fixtures/output/:

  NAME.stdout, NAME.stderr   stdout and stderr redirected to two files, stdin /dev/null
  NAME.pty                   stdin, stdout and stderr on one pseudo-terminal (100x30,
                             TERM=xterm-256color): the bytes a terminal would receive
  NAME.log                   the file the script logged into
  NAME[.METRIC].expected.json  the values from the framework's own record of that same run

Nothing is rewritten: the captured bytes are stored as read. It also probes buffering: each
file-mode command is run once more with stdout and stderr on pipes, with and without
PYTHONUNBUFFERED=1, timing when the bytes arrive; the table goes to BUFFERING.md.

Run through capture.sh (which makes the venv); `python capture.py [NAME ...]` reruns some.
"""
import errno
import fcntl
import importlib.metadata as md
import json
import os
import pty
import selectors
import shlex
import shutil
import struct
import subprocess
import sys
import termios
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
OUT = os.path.join(ROOT, "crates", "hyperband", "tests", "fixtures", "output")
WORK = os.path.join(ROOT, "target", "framework-work")
PTY_COLS, PTY_ROWS = 100, 30
MAX_FIXTURE_BYTES = 50 * 1024


def v(pkg):
    return md.version(pkg)


def fw(name):
    t = f"torch {v('torch')}"
    return {
        "pytorch": f"torch {v('torch')} (script in the shape of pytorch/examples mnist/main.py)",
        "keras": f"keras {v('keras')} ({t}, KERAS_BACKEND={os.environ.get('CAPTURE_KERAS_BACKEND', 'torch')})",
        "lightning": f"lightning {v('lightning')} ({t}, tqdm {v('tqdm')}, rich {v('rich')})",
        "hf": f"transformers {v('transformers')} (accelerate {v('accelerate')}, {t}, tqdm {v('tqdm')})",
        "xgboost": f"xgboost {v('xgboost')}",
        "lightgbm": f"lightgbm {v('lightgbm')}",
        "tqdm": f"tqdm {v('tqdm')}",
        "logging": f"python {sys.version.split()[0]} logging",
    }[name]


# --- how the values are taken from each framework's record -------------------------------

def num(x):
    return int(x) if isinstance(x, float) and x.is_integer() else x


def rows(key):
    return lambda r: [[num(e), val] for e, val in r[key]]


def keras_hist(key):
    return lambda r: [[e + 1, val] for e, val in zip(r["epoch"], r["history"][key])]


def lightning_cb(key):
    return lambda r: [[row["epoch"], row["metrics"][key]] for row in r["epochs"]]


def hf_log(key):
    return lambda r: [[num(row["epoch"]), row[key]] for row in r["log_history"] if key in row]


def evals(dataset, key, first):
    return lambda r: [[i + first, val] for i, val in enumerate(r[dataset][key])]


def M(metric, extract, unit="epoch", note=None, suffix=None, token=None):
    """token: the text that marks this metric in the output (default: the metric's name); in
    file mode the expected file names the stream that holds it."""
    return dict(metric=metric, extract=extract, unit=unit, note=note, suffix=suffix,
                token=token or metric)


PY = "python"
S = "benches/framework-output/"
LIGHTNING_NOTE = ("Lightning numbers epochs from 0 (trainer.current_epoch, and the bar says "
                  "'Epoch 0:'); values are as numbered by Lightning")
KERAS_NOTE = "epoch is 1-based as Keras prints 'Epoch 1/4' (History.epoch is 0-based, +1 here)"
XGB_NOTE = ("budget is the boosting round exactly as printed in brackets: 0-based "
            "([0] is the first round)")
LGB_NOTE = ("budget is the iteration exactly as printed in brackets: 1-based "
            "([1] is the first round)")

FIXTURES = []


def fixture(name, fwk, script, args, mode, stream, metrics, env=None):
    FIXTURES.append(dict(name=name, fw=fwk, script=script, args=args, mode=mode,
                         stream=stream, metrics=metrics, env=env or {}))


fixture("pytorch-examples", "pytorch", "pytorch_examples.py", ["--epochs", "3"], "file", "stdout",
        [M("test_loss", rows("test_loss"), token="Average loss",
           note="metric is the 'Average loss' of the 'Test set:' line, printed with {:.4f}"),
         M("test_accuracy", rows("test_accuracy"), suffix="test_accuracy", token="Accuracy",
           note="percent (100*correct/total), printed rounded with {:.0f}%"),
         ])
for verbose in (1, 2):
    for mode in ("file", "pty"):
        fixture(f"keras-verbose{verbose}-{mode}", "keras", "keras_fit.py",
                ["--verbose", str(verbose), "--epochs", "4"], mode,
                "stdout" if mode == "file" else "pty",
                [M("val_loss", keras_hist("val_loss"), note=KERAS_NOTE),
                 M("val_accuracy", keras_hist("val_accuracy"), note=KERAS_NOTE,
                   suffix="val_accuracy")],
                env={"KERAS_BACKEND": os.environ.get("CAPTURE_KERAS_BACKEND", "torch")})
for bar, stream in (("tqdm", "stderr"), ("default", "stdout")):
    for mode in ("file", "pty"):
        fixture(f"lightning-{bar}-{mode}", "lightning", "lightning_fit.py",
                ["--epochs", "4", "--progress-bar", bar, "--root", "lightning-work"], mode,
                stream if mode == "file" else "pty",
                [M("val_loss", lightning_cb("val_loss"), note=LIGHTNING_NOTE),
                 M("val_acc", lightning_cb("val_acc"), note=LIGHTNING_NOTE, suffix="val_acc")])
fixture("lightning-print-file", "lightning", "lightning_fit.py",
        ["--epochs", "4", "--progress-bar", "none", "--root", "lightning-work"], "file", "stdout",
        [M("val_loss", lightning_cb("val_loss"), note=LIGHTNING_NOTE)])
for mode in ("file", "pty"):
    fixture(f"hf-trainer-{mode}", "hf", "hf_trainer.py", ["--epochs", "3", "--output-dir", "hf-work"],
            mode, "stdout" if mode == "file" else "pty",
            [M("eval_loss", hf_log("eval_loss"),
               note="epoch as in log_history (a float, 1.0 after the first epoch; written as an "
                    "integer here when whole)"),
             M("loss", hf_log("loss"), suffix="loss",
               note="the training loss logged once per epoch (logging_strategy='epoch')")],
            env={"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
fixture("xgboost-sklearn", "xgboost", "xgboost_fit.py", ["--api", "sklearn", "--rounds", "20"],
        "file", "stdout",
        [M("validation_0-logloss", evals("validation_0", "logloss", 0), "iteration", XGB_NOTE)])
fixture("xgboost-native", "xgboost", "xgboost_fit.py", ["--api", "native", "--rounds", "20"],
        "file", "stdout",
        [M("eval-mlogloss", evals("eval", "mlogloss", 0), "iteration", XGB_NOTE),
         M("eval-merror", evals("eval", "merror", 0), "iteration", XGB_NOTE, "eval-merror"),
         M("train-mlogloss", evals("train", "mlogloss", 0), "iteration", XGB_NOTE,
           "train-mlogloss")])
fixture("lightgbm-default", "lightgbm", "lightgbm_fit.py", ["--setup", "default", "--rounds", "20"],
        "file", "stdout",
        [M("valid_0's l2", evals("valid_0", "l2", 1), "iteration", LGB_NOTE)])
fixture("lightgbm-named", "lightgbm", "lightgbm_fit.py", ["--setup", "named", "--rounds", "20"],
        "file", "stdout",
        [M("val's binary_logloss", evals("val", "binary_logloss", 1), "iteration", LGB_NOTE),
         M("val's auc", evals("val", "auc", 1), "iteration", LGB_NOTE, "auc")])
for mode in ("file", "pty"):
    fixture(f"tqdm-{mode}", "tqdm", "tqdm_loop.py", ["--epochs", "5"], mode,
            "stderr" if mode == "file" else "pty",
            [M("val_loss", rows("val_loss"),
               note="the epoch is the loop's 1-based counter; the bar itself shows n/total, and "
                    "the postfix set during epoch k is first drawn while the bar still shows k-1")])
fixture("logging-file", "logging", "logging_file.py", ["--epochs", "5", "--log-file", "train.log"],
        "log", "log",
        [M("val_loss", rows("val_loss"), note="printed with %.4f")])


# --- running ---------------------------------------------------------------------------------

def base_env(extra, unbuffered=False):
    env = dict(os.environ)
    for k in ("PYTHONUNBUFFERED", "FORCE_COLOR", "NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE",
              "COLUMNS", "LINES", "CI", "TERM", "TQDM_DISABLE"):
        env.pop(k, None)
    env["TERM"] = "dumb"
    env["HF_HOME"] = os.path.join(WORK, "hf-home")
    env["MPLCONFIGDIR"] = os.path.join(WORK, "mpl")
    env.update(extra)
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    return env


def argv(fx, record):
    return [sys.executable, os.path.join(HERE, fx["script"])] + fx["args"] + ["--record", record]


def run_file(cmd, env, out_path, err_path):
    with open(out_path, "wb") as o, open(err_path, "wb") as e:
        return subprocess.run(cmd, cwd=WORK, env=env, stdin=subprocess.DEVNULL,
                              stdout=o, stderr=e).returncode


def run_pty(cmd, env, out_path):
    env = dict(env, TERM="xterm-256color")
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", PTY_ROWS, PTY_COLS, 0, 0))

    def child_setup():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    p = subprocess.Popen(cmd, cwd=WORK, env=env, stdin=slave, stdout=slave, stderr=slave,
                         preexec_fn=child_setup, close_fds=True)
    os.close(slave)
    data = bytearray()
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError as exc:
            if exc.errno == errno.EIO:  # the slave side is closed: the child has exited
                break
            raise
        if not chunk:
            break
        data += chunk
    os.close(master)
    rc = p.wait()
    with open(out_path, "wb") as f:
        f.write(data)
    return rc


def probe(cmd, env, token, log_path=None):
    """Runs cmd with stdout/stderr on pipes and notes when each chunk arrives, and how many
    separate reads carried the metric's token."""
    start = time.monotonic()
    p = subprocess.Popen(cmd, cwd=WORK, env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sel = selectors.DefaultSelector()
    sel.register(p.stdout, selectors.EVENT_READ, "stdout")
    sel.register(p.stderr, selectors.EVENT_READ, "stderr")
    chunks = {"stdout": [], "stderr": [], "log": []}
    log_size = 0
    open_streams = 2
    while open_streams:
        for key, _ in sel.select(timeout=0.02):
            data = os.read(key.fileobj.fileno(), 65536)
            if not data:
                sel.unregister(key.fileobj)
                open_streams -= 1
            else:
                chunks[key.data].append((time.monotonic() - start, data))
        if log_path and os.path.exists(log_path):
            with open(log_path, "rb") as f:
                f.seek(log_size)
                data = f.read()
            if data:
                chunks["log"].append((time.monotonic() - start, data))
                log_size += len(data)
    p.wait()
    summary = {}
    for stream, cs in chunks.items():
        if not cs:
            continue
        whole = b"".join(d for _, d in cs)
        tok = token.encode()
        with_token = [t for t, d in cs if tok in d]
        summary[stream] = {"bytes": len(whole), "reads": len(cs),
                           "span_s": round(cs[-1][0] - cs[0][0], 2),
                           "token": whole.count(tok), "token_reads": len(with_token),
                           "token_span_s": round(with_token[-1] - with_token[0], 2)
                           if with_token else None}
    return summary


def shell_cmd(fx, mode):
    env = " ".join(f"{k}={v}" for k, v in fx["env"].items())
    cmd = " ".join([PY, S + fx["script"]] + [shlex.quote(a) for a in fx["args"]])
    cmd = (env + " " if env else "") + cmd
    how = {
        "file": "stdout and stderr redirected to two files, stdin /dev/null, "
                "PYTHONUNBUFFERED unset, cwd target/framework-work",
        "pty": f"stdin, stdout and stderr on one pseudo-terminal ({PTY_COLS}x{PTY_ROWS}, "
               "TERM=xterm-256color, default termios so \\n reaches the master as \\r\\n), "
               "cwd target/framework-work",
        "log": "the file written by logging.FileHandler; stdout/stderr to files, stdin /dev/null, "
               "cwd target/framework-work",
    }[mode]
    return f"{cmd}  # {how}"


def dump_expected(expected):
    """JSON with one [budget, value] pair a line."""
    head = {k: val for k, val in expected.items() if k != "values"}
    lines = [f" {json.dumps(k)}: {json.dumps(val)}," for k, val in head.items()]
    pairs = ",\n".join(f"  {json.dumps(p)}" for p in expected["values"])
    return "{\n" + "\n".join(lines) + '\n "values": [\n' + pairs + "\n ]\n}\n"


def capture(fx, buffering):
    name, mode = fx["name"], fx["mode"]
    for sub in ("lightning-work", "hf-work"):  # fresh each run: Lightning numbers its
        shutil.rmtree(os.path.join(WORK, sub), ignore_errors=True)  # runs (v_num) by dir
    record = os.path.join(WORK, name + ".record.json")
    cmd = argv(fx, record)
    env = base_env(fx["env"])
    t0 = time.monotonic()
    if mode == "file":
        rc = run_file(cmd, env, os.path.join(OUT, name + ".stdout"),
                      os.path.join(OUT, name + ".stderr"))
    elif mode == "pty":
        rc = run_pty(cmd, env, os.path.join(OUT, name + ".pty"))
    else:
        log_path = os.path.join(WORK, "train.log")
        if os.path.exists(log_path):
            os.remove(log_path)
        rc = run_file(cmd, env, os.path.join(WORK, name + ".stdout"),
                      os.path.join(WORK, name + ".stderr"))
        with open(log_path, "rb") as src, open(os.path.join(OUT, name + ".log"), "wb") as dst:
            dst.write(src.read())
    took = time.monotonic() - t0
    if rc != 0:
        raise SystemExit(f"{name}: exit {rc}")
    with open(record) as f:
        rec = json.load(f)
    for m in fx["metrics"]:
        stream = fx["stream"]
        if mode == "file":
            holding = [st for st in ("stdout", "stderr")
                       if m["token"].encode() in open(os.path.join(OUT, f"{name}.{st}"), "rb").read()]
            if len(holding) != 1:
                raise SystemExit(f"{name}: {m['token']!r} found in {holding or 'neither stream'}")
            stream = holding[0]
        expected = {"framework": fw(fx["fw"]), "command": shell_cmd(fx, mode),
                    "stream": stream, "metric": m["metric"], "budget_unit": m["unit"],
                    "values": m["extract"](rec)}
        if m["note"]:
            expected["note"] = m["note"]
        if not expected["values"]:
            raise SystemExit(f"{name}: no values for {m['metric']}")
        stem = name + ("." + m["suffix"] if m["suffix"] else "")
        with open(os.path.join(OUT, stem + ".expected.json"), "w") as f:
            f.write(dump_expected(expected))
    for ext in (".stdout", ".stderr", ".pty", ".log"):
        path = os.path.join(OUT, name + ext)
        if os.path.exists(path) and os.path.getsize(path) > MAX_FIXTURE_BYTES:
            raise SystemExit(f"{path} is {os.path.getsize(path)} bytes, over the "
                             f"{MAX_FIXTURE_BYTES} limit: shorten the run")
    print(f"{name}: {took:.1f}s", flush=True)
    if buffering and mode in ("file", "log"):
        log_path = os.path.join(WORK, "train.log") if mode == "log" else None
        res = {}
        for unbuffered in (False, True):
            if log_path and os.path.exists(log_path):
                os.remove(log_path)
            res["PYTHONUNBUFFERED=1" if unbuffered else "unset"] = probe(
                argv(fx, os.path.join(WORK, name + ".probe.json")),
                base_env(fx["env"], unbuffered), fx["metrics"][0]["token"], log_path)
        return res
    return None


def write_buffering(results):
    lines = ["# How the output arrives when stdout/stderr are pipes (as with files)",
             "",
             "Generated by benches/framework-output/capture.py (do not edit). Each file-mode",
             "fixture's command was run twice more with stdout and stderr on pipes (stdin",
             "/dev/null), once without and once with PYTHONUNBUFFERED=1, reading as soon as",
             "data was there. `reads`: how many reads returned data; `span`: seconds between",
             "the first and the last; `token`: how often the metric's text (first expected",
             "metric) occurs; `token reads`/`token span`: in how many reads, over how many",
             "seconds, it came. Metric lines that all arrive in one read at the end are",
             "block-buffered: a runner tailing the output sees them only when the program",
             "exits (or its 8 KiB buffer fills). Python uses the same buffering for a file",
             "as for a pipe. Counts of redraws differ from the fixture's (separate runs).", "",
             "| fixture | PYTHONUNBUFFERED | stream | bytes | reads | span s | token | "
             "token reads | token span s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, res in results.items():
        for setting, streams in res.items():
            for stream, s in streams.items():
                lines.append(f"| {name} | {setting} | {stream} | {s['bytes']} | {s['reads']} | "
                             f"{s['span_s']} | {s['token']} | {s['token_reads']} | "
                             f"{s['token_span_s'] if s['token_span_s'] is not None else '-'} |")
    with open(os.path.join(OUT, "BUFFERING.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    os.makedirs(WORK, exist_ok=True)
    only = set(sys.argv[1:])
    buffering = not only
    results = {}
    for fx in FIXTURES:
        if only and fx["name"] not in only:
            continue
        res = capture(fx, buffering)
        if res:
            results[fx["name"]] = res
    if buffering:
        write_buffering(results)


if __name__ == "__main__":
    main()
