"""Run from this folder after `gcc -O2 -o noflush noflush.c && gcc -O2 -static -o noflush-static noflush.c`.

First-line delay of a program that does not flush, as a stop-mode runner sees it.
file:   stdout is a regular file (as today); the reader polls the file every 20 ms.
stdbuf: the same, with `stdbuf -oL` prepended.
pty:    stdout is a pty slave; the reader reads the master and appends to the file."""
import os, pty, subprocess, sys, time, select, termios, tty
def run(argv, how):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    path = "out.log"  # in this folder
    t0 = time.monotonic()
    if how == "pty":
        m, s = pty.openpty()
        attrs = termios.tcgetattr(s); attrs[1] &= ~termios.OPOST; termios.tcsetattr(s, termios.TCSANOW, attrs)
        p = subprocess.Popen(argv, stdout=s, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=env)
        os.close(s)
        out = open(path, "wb")
        buf = b""
        while True:
            r, _, _ = select.select([m], [], [], 0.02)
            if r:
                try: d = os.read(m, 4096)
                except OSError: break
                if not d: break
                out.write(d); out.flush(); buf += d
                if b"\n" in buf: break
        d = time.monotonic() - t0
        p.wait(); os.close(m)
        return d
    if how == "stdbuf": argv = ["stdbuf", "-oL"] + argv
    with open(path, "wb") as f:
        p = subprocess.Popen(argv, stdout=f, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=env)
    while True:
        with open(path, "rb") as f:
            if b"\n" in f.read():
                d = time.monotonic() - t0; p.wait(); return d
        if p.poll() is not None:
            with open(path, "rb") as f:
                if b"\n" in f.read(): return time.monotonic() - t0
            return None
        time.sleep(0.02)
progs = {"C stdio (dynamic)": ["./noflush"], "C stdio (static)": ["./noflush-static"],
         "Python (no -u, no PYTHONUNBUFFERED)": ["python3", "noflush.py"], "Node": ["node", "noflush.js"]}
print("| program | file (today) | stdbuf -oL | pty |\n|---|---|---|---|")
for name, argv in progs.items():
    row = []
    for h in ("file", "stdbuf", "pty"):
        ts = sorted(run(argv, h) for _ in range(3))
        row.append(f"{ts[1]:.2f} s")
    print(f"| {name} | " + " | ".join(row) + " |")
