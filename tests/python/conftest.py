"""The Python package's tests (docs/python.md, "Tests"). They run against the installed package
(`pip install .`) or an in-place build (PYTHONPATH=BUILD/python).

ARTABPFN_CLI: the command line the results are compared with (default: build/apps/artabpfn of
the repository); the tests that need it fail when it is set and missing, and skip with a reason
when it is not set and the default is missing. ARTABPFN_EXPECT_GPU=1 turns the GPU tests' skip
into a failure (as for the C++ tests)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import artabpfn

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "peer"
FIXTURE_PAIRS = {"paper": ("paper_weights.safetensors", "paper_io.safetensors"),
                 "shared": ("shared_weights.safetensors", "shared_io.safetensors")}


def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: needs a usable CUDA GPU (skips without one)")


def pytest_runtest_setup(item):
    if "gpu" not in item.keywords or artabpfn.cuda_available():
        return
    reason = f"no CUDA GPU: {artabpfn.cuda_unavailable_reason() or 'this build has no CUDA engine'}"
    if os.environ.get("ARTABPFN_EXPECT_GPU") == "1":
        pytest.fail(f"ARTABPFN_EXPECT_GPU=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def cli():
    """The command line, or a skip (a failure where ARTABPFN_CLI names a missing file)."""
    given = os.environ.get("ARTABPFN_CLI")
    path = Path(given) if given else ROOT / "build" / "apps" / "artabpfn"
    if not path.is_file():
        if given:
            pytest.fail(f"ARTABPFN_CLI={given} does not exist")
        pytest.skip(f"no command line at {path} (build it, or set ARTABPFN_CLI)")
    return str(path)


def run_cli(cli, *args, expect=0):
    """Runs the command line; returns (stdout, stderr), asserting its exit status."""
    done = subprocess.run([cli, *map(str, args)], capture_output=True, text=True)
    assert done.returncode == expect, f"{cli} {' '.join(map(str, args))}: exit {done.returncode}\n{done.stderr}"
    return done.stdout, done.stderr


def run_python(*args, env=None, cwd=None, expect=None):
    """Runs `python -m ...` or a script with this interpreter; returns the CompletedProcess."""
    done = subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})})
    if expect is not None:
        assert done.returncode == expect, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="session")
def vectors(tmp_path_factory):
    """The quick conformance vectors, written once a session."""
    from artabpfn import conformance

    out = tmp_path_factory.mktemp("vectors")
    conformance.generate(out, "quick")
    return out
