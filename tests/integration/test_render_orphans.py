"""A render child ends with the worker that started it (a pool child killed by SIGKILL leaves no orphan render)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import wait_for

ROOT = Path(__file__).resolve().parents[2]
# The parent also lends the child's stdin to a sleeper, so that the child does not see end-of-file when its parent
# dies (as a child busy rendering would not): only the death signal can end it.
PARENT = """
import os, subprocess, time
from core.registers.render_processes import RenderProcess
child = RenderProcess()
os.set_inheritable(child.process.stdin.fileno(), True)
holder = subprocess.Popen(["sleep", "600"], close_fds=False)
print(child.process.pid, holder.pid, flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_a_render_child_is_ended_when_its_parent_is_killed():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    child_pid, holder_pid = (int(pid) for pid in parent.stdout.readline().split())
    try:
        assert _alive(child_pid)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)
        wait_for(lambda: not _alive(child_pid), timeout=10, every=0.05)
    finally:
        os.kill(holder_pid, signal.SIGKILL)
