"""Conformance vectors from Python (docs/conformance_vectors.md): write them, run an adapter over
them, and check the results with the checker of ``artabpfn check`` (the same verdicts, tables,
report.json and junit.xml). ``python -m artabpfn.conformance generate|run|check`` is the same from
a shell, with the command line's exit statuses (0 pass, 1 a failing or missing case, 2 bad input).

The pytest plugin (artabpfn.pytest_plugin) makes one test per case:
``pytest --artabpfn-vectors DIR --artabpfn-adapter module:function [--artabpfn-precision P]``.
"""

import os

from .. import _core

# The precisions whose tolerance the checker knows, from the C++ rule.
PRECISIONS = tuple(_core.conformance_precisions())
# name -> {"description", "factor", "inputs", "outputs", "uses_model"}
CONTRACTS = {c["name"]: c for c in _core.conformance_contracts()}
DEFAULT_SEED = _core.conformance_default_seed()


def planned_cases(set="quick"):
    """The case names of a set, in index order."""
    return list(_core.conformance_planned_cases(set))


def generate(out, set="quick", seed=DEFAULT_SEED, cases=None):
    """Writes a vectors folder (index.json, a file per case and per model), as `artabpfn vectors`.
    Returns {"cases", "bytes", "seconds"}."""
    return dict(_core.conformance_write_vectors(os.fspath(out), set, int(seed), list(cases or [])))


def run_adapter(vectors, results, adapter, contracts=None, cases=None, quiet=True):
    """Runs an adapter ("module:function", called as function(contract, inputs, case, weights))
    over the vectors and writes its results; the runner of ``python3 -m
    artabpfn_conformance.run``. Returns its exit status (0 when every attempted case wrote)."""
    from artabpfn_conformance import run

    argv = [os.fspath(vectors), os.fspath(results), "--adapter", adapter]
    if contracts:
        argv += ["--contracts", ",".join(contracts)]
    for name in cases or []:
        argv += ["--case", name]
    if quiet:
        argv.append("--quiet")
    return run.main(argv)


class CheckReport:
    """What ``check`` found: ``ok`` (no failing or missing case, at least one passing), the counts,
    ``cases`` (per case: name, contract, status, message, reproduce, outputs with each one's
    max_error, limit, plain_error and worst element), and ``table`` (the command line's table)."""

    def __init__(self, report):
        self._report = report
        self.ok = report["ok"]
        self.passed, self.failed = report["passed"], report["failed"]
        self.missing, self.skipped = report["missing"], report["skipped"]
        self.precision = report["precision"]
        self.table = report["table"]
        self.cases = [dict(c) for c in report["cases"]]

    def __repr__(self):
        return (f"CheckReport(ok={self.ok}, passed={self.passed}, failed={self.failed}, missing={self.missing}, "
                f"skipped={self.skipped}, precision={self.precision!r})")


def check(vectors, results, contracts=None, cases=None, allow_skipped=False, report_dir=None, precision="float32",
          program="artabpfn"):
    """Checks RESULTS against VECTORS with the tolerances frozen in them, as ``artabpfn check``;
    with report_dir, also writes report.json and junit.xml there. ``precision`` is one of
    PRECISIONS. Bad input (a missing folder, an unknown contract or case) raises ValueError."""
    return CheckReport(_core.conformance_check(os.fspath(vectors), os.fspath(results), list(contracts or []),
                                               list(cases or []), bool(allow_skipped),
                                               os.fspath(report_dir) if report_dir else "", precision, program))


def failed_output_line(o, precision, factor, floor):
    """One output that broke the rule, from a verdict of the checker: its worst element and the
    limit it passed (artabpfn.testing and the pytest plugin report with it)."""
    return (f"  {o['output']}: worst element {list(o['worst_position'])}: got {o['worst_got']!r}, expected "
            f"{o['worst_expected']!r}: |error| {o['max_error']:.3g} > tolerance {o['limit']:.3g} = "
            f"{factor:g} x plain {precision} error {o['plain_error']:.3g} + floor {floor:.3g}")
