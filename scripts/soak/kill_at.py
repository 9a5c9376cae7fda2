#!/usr/bin/env python3
"""Runs one command and kills it with SIGKILL at a chosen moment (scripts/soak.sh; Python standard library only).

  kill_at.py --log FILE [--delay S] [--watch DIR [--trigger write|change [--match RE] [--after S]]] -- COMMAND ARGS...

The command's standard output and error go to --log (appended). Moments:
  --delay S alone           S seconds after the start;
  --watch DIR --trigger write
                            S seconds after a write is first seen in progress in DIR: a hidden entry (a name
                            starting with "."), as atomic writers' temporary files and staging directories are,
                            appears that was not there at the previous look (with --match, one whose name matches RE);
  --watch DIR --trigger change
                            S seconds after DIR's listing or any of its files' sizes first change (an append; with
                            --match, of an entry whose name matches RE);
  --after S                 with a trigger, the watch begins only S seconds after the start (default 0).
--watch DIR without a trigger only lists what was being written in DIR at the kill.
A watch polls every millisecond or two. If the command ends first, nothing is killed.

Prints one line: "killed after 1.234s (during: .model.safetensors.tmp-…; seen: …)" or "exited N after 1.234s", and
exits 0 either way (2 on a usage error). What was in DIR at the kill is listed so that a failure can be understood.
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import time


def snapshot(d):
    """Names in d with their sizes (directories: -1); empty when d does not exist yet."""
    out = {}
    try:
        with os.scandir(d) as it:
            for e in it:
                try:
                    out[e.name] = -1 if e.is_dir(follow_symlinks=False) else e.stat(follow_symlinks=False).st_size
                except FileNotFoundError:
                    pass
    except FileNotFoundError:
        pass
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--log", required=True)
    p.add_argument("--delay", type=float, default=0.0)
    p.add_argument("--watch")
    p.add_argument("--trigger", choices=["write", "change"])
    p.add_argument("--after", type=float, default=0.0)
    p.add_argument("--match", help="with a trigger: only entries whose names match this regular expression")
    p.add_argument("command", nargs=argparse.REMAINDER)
    a = p.parse_args()
    cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not cmd or (a.trigger and not a.watch):
        p.error("give a command after --, and --watch with --trigger")
    match = re.compile(a.match) if a.match else None
    start = time.monotonic()
    with open(a.log, "ab") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    seen = ""
    if a.trigger:
        while time.monotonic() - start < a.after:
            if proc.poll() is not None:
                break
            time.sleep(0.002)
        before = snapshot(a.watch)
        while proc.poll() is None:
            now = snapshot(a.watch)
            if a.trigger == "write":
                new = sorted(n for n in now if n.startswith(".") and n not in before and (not match or match.search(n)))
            else:
                new = sorted(n for n in set(now) | set(before) if now.get(n) != before.get(n) and (not match or match.search(n)))
            if new:
                seen = ", ".join(new)
                break
            before = now  # a name left by an earlier run counts once it has been removed and comes back
            time.sleep(0.001)
    deadline = time.monotonic() + a.delay
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    if proc.poll() is None:
        listing = sorted(n for n in snapshot(a.watch) if n.startswith(".")) if a.watch else []
        os.kill(proc.pid, signal.SIGKILL)
        t = time.monotonic() - start
        proc.wait()
        detail = []
        if a.watch:
            detail.append("during: " + (", ".join(listing) if listing else "no write in progress"))
        if seen:
            detail.append("triggered by: " + seen)
        print("killed after %.3fs%s" % (t, " (" + "; ".join(detail) + ")" if detail else ""))
    else:
        print("exited %d after %.3fs" % (proc.returncode, time.monotonic() - start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
