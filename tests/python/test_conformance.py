"""artabpfn.conformance: vectors, the checker bound from C++ (the same verdicts and report files
as `artabpfn check`), its command line, and the pytest plugin with the NumPy adapter and each of
its mutants."""

import json
import xml.etree.ElementTree as ET

import pytest

from artabpfn import conformance, reference
from artabpfn_conformance.numpy_adapter import MUTANTS
from conftest import run_cli, run_python

ADAPTER = "artabpfn_conformance.numpy_adapter:adapter"
CONTRACTS = ",".join(reference.ATTENTION_CONTRACTS)  # what the NumPy example adapter implements


def test_generate_writes_what_the_cli_writes(cli, vectors, tmp_path):
    run_cli(cli, "vectors", "--out", tmp_path / "cli", "--quick")
    files = sorted(p.name for p in (tmp_path / "cli").iterdir())
    assert files == sorted(p.name for p in vectors.iterdir())
    for name in files:  # every case, the models and index.json, byte for byte
        assert (tmp_path / "cli" / name).read_bytes() == (vectors / name).read_bytes(), name
    assert len(conformance.planned_cases("quick")) == len(json.loads((vectors / "index.json").read_text())["cases"])


def test_check_gives_the_cli_verdict_and_reports(cli, vectors, tmp_path):
    results = tmp_path / "results"
    assert conformance.run_adapter(vectors, results, ADAPTER, contracts=CONTRACTS.split(",")) == 0
    report = conformance.check(vectors, results, contracts=CONTRACTS.split(","), report_dir=tmp_path / "py")
    assert report.ok and report.failed == 0 and report.passed > 10
    out, _ = run_cli(cli, "check", vectors, "--results", results, "--contracts", CONTRACTS, "--report-dir",
                     tmp_path / "cli")
    assert out.startswith(report.table.splitlines()[0])
    py, c = (json.loads((tmp_path / d / "report.json").read_text()) for d in ("py", "cli"))
    assert [(k["name"], k["status"]) for k in py["cases"]] == [(k["name"], k["status"]) for k in c["cases"]]
    assert ET.parse(tmp_path / "py" / "junit.xml").getroot().get("tests") is not None


def test_command_line_exit_statuses(vectors, tmp_path):
    results = tmp_path / "results"
    run_python("-m", "artabpfn.conformance", "run", vectors, results, "--adapter", ADAPTER, "--contracts",
               "merge_states", expect=0)
    check = ["-m", "artabpfn.conformance", "check", vectors, "--results", results]
    run_python(*check, "--contracts", "merge_states", expect=0)
    missing = run_python(*check, "--contracts", "shared_context_attention", expect=1)
    assert "missing" in missing.stdout
    bad = run_python(*check, "--contracts", "no_such_contract", expect=2)
    assert "unknown contract 'no_such_contract'" in bad.stderr
    assert run_python(*check[:3], tmp_path / "nowhere", "--results", results, expect=2).stderr.count("\n") == 1
    unknown = run_python(*check, "--precision", "fp64", expect=2)
    assert "invalid choice" in unknown.stderr


def plugin_run(vectors, tmp_path, *extra, mutant="", precision="float32"):
    return run_python("-m", "pytest", "-p", "artabpfn.pytest_plugin", "-q", "-p", "no:cacheprovider",
                      "--artabpfn-vectors", vectors, "--artabpfn-adapter", ADAPTER, "--artabpfn-contracts", CONTRACTS,
                      "--artabpfn-precision", precision, "--junitxml", tmp_path / "junit.xml", *extra, cwd=tmp_path,
                      env={"ARTABPFN_MUTANT": mutant, "ARTABPFN_PRECISION": precision})


def test_plugin_passes_with_the_numpy_adapter(vectors, tmp_path):
    done = plugin_run(vectors, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    cases = ET.parse(tmp_path / "junit.xml").getroot().iter("testcase")
    names = [c.get("name") for c in cases]
    for contract in reference.ATTENTION_CONTRACTS:
        assert any(n.startswith(contract + ".") for n in names), contract
    assert "shared_context_attention.b1" in names


def test_plugin_skips_what_the_adapter_declines(vectors, tmp_path):
    done = run_python("-m", "pytest", "-p", "artabpfn.pytest_plugin", "-q", "-p", "no:cacheprovider",
                      "--artabpfn-vectors", vectors, "--artabpfn-adapter", ADAPTER, "--artabpfn-contracts",
                      "prefill_kv", cwd=tmp_path)
    assert done.returncode == 0 and " skipped" in done.stdout and "passed" not in done.stdout, done.stdout


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_plugin_fails_with_each_mutant(vectors, tmp_path, mutant):
    precision = MUTANTS[mutant]  # the precision whose kernel the fault belongs to
    done = plugin_run(vectors, tmp_path, "-x", mutant=mutant, precision=precision)
    assert done.returncode == 1, done.stdout + done.stderr
    text = done.stdout
    assert "worst element" in text or "non-finite" in text, text
    assert "tolerance" in text and "reproduce: pytest --artabpfn-vectors" in text and "-k " in text, text


def test_plugin_usage_errors(vectors, tmp_path):
    alone = run_python("-m", "pytest", "-p", "artabpfn.pytest_plugin", "--artabpfn-vectors", vectors, cwd=tmp_path)
    assert alone.returncode == 4 and "go together" in alone.stderr
    precision = plugin_run(vectors, tmp_path, precision="fp64")
    assert precision.returncode == 4 and "the precisions are" in precision.stderr
