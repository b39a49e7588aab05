"""Run the `flexsupply` command as separate processes, the way a deployment does."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

FLEXSUPPLY = str(Path(sys.executable).parent / "flexsupply")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Processes:
    """Started processes, each logging to a file the failure message can show."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.running: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        argv = [FLEXSUPPLY if command[0] == "flexsupply" else command[0], *command[1:]]
        with (self.log_dir / f"{name}.log").open("wb") as log:  # the child keeps its own copy of the handle
            process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.running.append((name, process))
        return process

    def run(self, name: str, command: list[str], env: dict[str, str], timeout_seconds: float = 120) -> int:
        """Run a one-off command (like migrations) to its end."""
        process = self.start(name, command, env)
        self.running.remove((name, process))
        return process.wait(timeout=timeout_seconds)

    def interrupt(self, process: subprocess.Popen[bytes], timeout_seconds: float = 30) -> int:
        """Ctrl-C, as a person stops it; returns the exit status."""
        os.killpg(process.pid, signal.SIGINT)
        code = process.wait(timeout=timeout_seconds)
        self.running = [(n, p) for n, p in self.running if p is not process]
        return code

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(self.log_dir.glob("*.log")))

    def stop_all(self) -> None:
        for _, process in self.running:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)
        deadline = time.monotonic() + 20
        for _, process in self.running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@contextmanager
def processes(log_dir: Path) -> Iterator[Processes]:
    started = Processes(log_dir)
    try:
        yield started
    finally:
        started.stop_all()


def wait_until_healthy(url: str, processes: Processes, timeout_seconds: float = 60) -> dict:
    deadline = time.monotonic() + timeout_seconds
    last = ""
    while time.monotonic() < deadline:
        for name, process in processes.running:
            if process.poll() is not None:
                raise AssertionError(f"{name} exited with {process.returncode}\n{processes.logs()}")
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code == 200:
                return response.json()
            last = f"{response.status_code} {response.text}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.2)
    raise AssertionError(f"{url} not healthy within {timeout_seconds}s: {last}\n{processes.logs()}")
