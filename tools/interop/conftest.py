"""Shared fixtures for the interop tests.

The CLI is found at $MODELKIT_BIN, else .build/debug/modelkit. `tools/test` sets MODELKIT_BIN to the binary it built.
"""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Fixtures"


def modelkit_binary() -> pathlib.Path:
    env = os.environ.get("MODELKIT_BIN")
    return pathlib.Path(env) if env else ROOT / ".build" / "debug" / "modelkit"


@pytest.fixture(scope="session")
def modelkit_bin() -> pathlib.Path:
    path = modelkit_binary()
    if not os.access(path, os.X_OK):
        pytest.fail(f"modelkit binary not found at {path}: run `swift build` or set MODELKIT_BIN")
    return path


@pytest.fixture
def workdir(tmp_path) -> pathlib.Path:
    """An empty directory for one test (pytest removes old ones)."""
    return tmp_path


@pytest.fixture(scope="module")
def module_dir(tmp_path_factory) -> pathlib.Path:
    """An empty directory shared by the tests of one module, for files that are costly to make."""
    return tmp_path_factory.mktemp("module")


@pytest.fixture
def modelkit(modelkit_bin, workdir):
    """Runs `modelkit ARGS...` in `workdir` (or `cwd`) and returns the subprocess.CompletedProcess (text mode).

    A run that ends by a signal (a crash) or that outlives `timeout` fails the test: neither is ever acceptable.
    With `expect=N`, an exit status other than N fails the test and shows stdout and stderr.
    """
    def run(*args, expect=None, cwd=None, timeout=300, input=None):
        argv = [str(modelkit_bin), *(str(a) for a in args)]
        try:
            proc = subprocess.run(argv, cwd=cwd or workdir, capture_output=True, text=True,
                                  timeout=timeout, input=input)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{' '.join(argv)} did not finish within {timeout} s")
        assert proc.returncode >= 0, \
            f"{' '.join(argv)} was killed by signal {-proc.returncode}\nstderr:\n{proc.stderr}"
        if expect is not None:
            assert proc.returncode == expect, (
                f"{' '.join(argv)} exited {proc.returncode}, expected {expect}\n"
                f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
        return proc
    return run


@pytest.fixture(scope="session")
def fixtures_dir() -> pathlib.Path:
    return FIXTURES
