"""Benchmark how fast the `flexsupply` command starts: whole-command wall time of a few invocations.

    uv run --frozen python -m bench.cli.run [--runs 11] [--against REV]

Each command runs `--runs` times as a child process of the console script installed beside this interpreter, in two
conditions: without bytecode (every module compiled from source on every run: what a venv made by `uv sync`, which
writes no .pyc, gives when PYTHONDONTWRITEBYTECODE is set, as on the machine this was written on) and with bytecode
(a private PYTHONPYCACHEPREFIX, warmed by one run first: any run after the first where Python may write its cache).
`--against REV` runs the same commands on a temporary `git worktree` of REV too (its packages put first on
PYTHONPATH; the installed dependencies are shared), interleaved with the working tree's runs so that both see the
same load, and removes the worktree afterwards. Besides the wall time it reports the child's CPU time (user +
system, from `getrusage(RUSAGE_CHILDREN)`), which other work on a shared machine inflates far less. Rows go to
stdout as they are measured, as a markdown table.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).parents[2]
SCRIPT = Path(sys.executable).parent / "flexsupply"
EXAMPLE = "tests/instances/example-problem.json"
COMMANDS = {
    "flexsupply --help": ["--help"],
    "flexsupply match --help": ["match", "--help"],
    "flexsupply match example-problem.json": ["match", EXAMPLE],
}


@contextmanager
def checkout(rev: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="bench-cli-")) / "tree"
    subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(path), rev], cwd=ROOT, check=True)
    try:
        yield path
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, check=True)


def package_roots(tree: Path) -> list[str]:
    """The workspace members' import roots, so that `flexsupply.*` comes from `tree`, not from the venv's links."""
    return [str(tree / "cli"), *(str(p.parent) for p in sorted(tree.glob("*/*/flexsupply")) if p.is_dir())]


def environment(tree: Path | None, pycache: Path, bytecode: bool) -> dict[str, str]:
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(pycache), "COLUMNS": "120"}
    env.pop("PYTHONPATH", None)
    if bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join(package_roots(tree))
    return env


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run."""
    cpu, start = cpu_of_children(), time.perf_counter()
    done = subprocess.run([str(SCRIPT), *args], cwd=ROOT, env=env, capture_output=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"flexsupply {' '.join(args)} exited {done.returncode}: {done.stderr.decode()[-2000:]}")
    return wall, cpu_of_children() - cpu


def measure(args: list[str], envs: dict[str, dict[str, str]], runs: int) -> dict[str, list[tuple[float, float]]]:
    """Each tree's runs of one command, taken in turns so that a burst of load hits them alike."""
    measured: dict[str, list[tuple[float, float]]] = {name: [] for name in envs}
    for _ in range(runs):
        for name, env in envs.items():
            measured[name].append(timed(args, env))
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--against", metavar="REV", help="also time this revision, e.g. the commit before a change")
    options = parser.parse_args()
    print("| command | condition | code | median s | min s | max s | median CPU s |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="bench-cli-pyc-") as scratch, ExitStack() as stack:
        trees: dict[str, Path | None] = {"working tree": None}
        if options.against:
            trees = {options.against: stack.enter_context(checkout(options.against)), **trees}
        for bytecode in (False, True):
            condition = "bytecode" if bytecode else "no bytecode"
            envs = {
                name: environment(tree, Path(scratch) / f"{index}-{condition}", bytecode)
                for index, (name, tree) in enumerate(trees.items())
            }
            for label, args in COMMANDS.items():
                if bytecode:
                    for env in envs.values():
                        timed(args, env)  # writes the bytecode cache
                for name, measured in measure(args, envs, options.runs).items():
                    wall = [seconds for seconds, _ in measured]
                    cpu = statistics.median(seconds for _, seconds in measured)
                    numbers = " | ".join(f"{x:.2f}" for x in (statistics.median(wall), min(wall), max(wall), cpu))
                    print(f"| `{label}` | {condition} | {name} | {numbers} |", flush=True)


if __name__ == "__main__":
    main()
