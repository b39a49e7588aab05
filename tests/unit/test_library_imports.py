"""What a library imports is what installing it must bring: checked in a fresh interpreter, by what it has loaded."""

import ast
import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parents[2] / "bench"
TEST_MODULES = ("tests.unit", "tests.integration", "tests.e2e", "tests.browser")


def imported_by(*modules: str) -> set[str]:
    probe = f"import json, sys; import {', '.join(modules)}; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    return set(json.loads(done.stdout))


def test_the_typed_clients_need_neither_the_web_framework_nor_the_kit():
    loaded = imported_by("flexsupply.clients.suppliers", "flexsupply.clients.retrying")
    assert {name for name in loaded if name.split(".")[0] == "litestar" or name.startswith("flexsupply.kit")} == set()


def test_the_bench_takes_nothing_from_the_test_modules_only_from_their_support():
    taken = [
        f"{path.relative_to(BENCH)}: {node.module}"
        for path in sorted(BENCH.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(TEST_MODULES)
    ]
    assert taken == []
