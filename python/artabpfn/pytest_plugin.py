"""pytest plugin: conformance vectors as tests, one per case, named after the case.

    pytest --artabpfn-vectors DIR --artabpfn-adapter module:function [--artabpfn-precision P]
           [--artabpfn-contracts a,b] [--junitxml report.xml]

Each test runs the adapter on its case (the runner of ``artabpfn.conformance.run_adapter``) and
checks the result with the checker of ``artabpfn check``. A failure shows the worst element, its
tolerance and the commands that reproduce it; a case the adapter declines (returns None) is
skipped. Installed with the package (entry point pytest11), it does nothing without these options.
"""

import os
import shlex
import shutil
import tempfile

import pytest


def pytest_addoption(parser):
    group = parser.getgroup("artabpfn", "artabpfn conformance vectors")
    group.addoption("--artabpfn-vectors", metavar="DIR", help="conformance vectors folder: one test per case")
    group.addoption("--artabpfn-adapter", metavar="MODULE:FUNCTION", help="the implementation under test")
    group.addoption("--artabpfn-precision", metavar="P", default="float32",
                    help="the precision whose tolerance applies (default float32)")
    group.addoption("--artabpfn-contracts", metavar="A,B", default="", help="only these contracts")


def _options(config):
    vectors = config.getoption("artabpfn_vectors")
    adapter = config.getoption("artabpfn_adapter")
    return vectors, adapter


def pytest_configure(config):
    vectors, adapter = _options(config)
    if bool(vectors) != bool(adapter):
        raise pytest.UsageError("--artabpfn-vectors and --artabpfn-adapter go together")
    if not vectors:
        return
    from artabpfn.conformance import PRECISIONS

    precision = config.getoption("artabpfn_precision")
    if precision not in PRECISIONS:
        raise pytest.UsageError(f"--artabpfn-precision {precision}: the precisions are {', '.join(PRECISIONS)}")
    if not os.path.isfile(os.path.join(vectors, "index.json")):
        raise pytest.UsageError(f"--artabpfn-vectors {vectors}: no index.json (write vectors with "
                                f"`python -m artabpfn.conformance generate DIR`)")


@pytest.hookimpl(tryfirst=True)  # before -k and -m deselect
def pytest_collection_modifyitems(session, config, items):
    vectors, _ = _options(config)
    if vectors:
        items.extend(ConformanceVectors.from_parent(session, name=os.path.basename(os.path.normpath(vectors))).collect())


class ConformanceVectors(pytest.Collector):
    """The cases of one vectors folder."""

    def collect(self):
        from artabpfn_conformance import load_index

        vectors = self.config.getoption("artabpfn_vectors")
        contracts = [c for c in self.config.getoption("artabpfn_contracts").split(",") if c]
        index = load_index(vectors)
        return [ConformanceCase.from_parent(self, name=case["name"], case=case) for case in index["cases"]
                if not contracts or case["contract"] in contracts]


class ConformanceFailure(Exception):
    """A case that failed the check: the checker's verdict."""


class ConformanceCase(pytest.Item):
    def __init__(self, *, case, **kwargs):
        super().__init__(**kwargs)
        self.case = case

    def runtest(self):
        from artabpfn.conformance import check, run_adapter

        vectors, adapter = _options(self.config)
        results = self._results_dir()
        name = self.case["name"]
        status = run_adapter(vectors, results, adapter, cases=[name])
        if status == 2:
            raise pytest.UsageError(f"--artabpfn-adapter {adapter}: the runner refused it (message above)")
        with open(os.path.join(results, "skipped.txt"), encoding="utf-8") as f:
            if name in f.read().split():
                pytest.skip(f"the adapter declines {self.case['contract']} (it returned None)")
        if status != 0:
            raise ConformanceFailure(f"{name}: the adapter raised (its traceback is in the captured stderr)")
        report = check(vectors, results, cases=[name], precision=self.config.getoption("artabpfn_precision"))
        verdict = report.cases[0]
        if verdict["status"] == "not applicable":
            pytest.skip(f"{self.case['contract']} is not judged in {self.config.getoption('artabpfn_precision')}")
        if verdict["status"] != "pass":
            raise ConformanceFailure(self._describe(verdict, vectors, adapter, results))

    def _results_dir(self):
        """One results folder for the session's cases, removed at its end."""
        if _RESULTS not in self.config.stash:
            root = tempfile.mkdtemp(prefix="artabpfn-results-")
            self.config.add_cleanup(lambda: shutil.rmtree(root, ignore_errors=True))
            self.config.stash[_RESULTS] = root
        return self.config.stash[_RESULTS]

    def _describe(self, verdict, vectors, adapter, results):
        from artabpfn.conformance import failed_output_line

        precision = self.config.getoption("artabpfn_precision")
        # The frozen tolerance of each output: per precision where the index has them, else float32's.
        tolerances = {name: o.get("tolerances", {}).get(precision, o["tolerance"])
                      for name, o in self.case["outputs"].items()}
        lines = [f"{verdict['name']} ({verdict['contract']}, precision {precision}): {verdict['status']}: "
                 f"{verdict['message']}"]
        for o in verdict["outputs"]:
            if o["ok"]:
                continue
            if o["worst_index"] < 0:  # no element to show: a missing output, a shape, a count
                lines.append(f"  {o['output']}: {o['problem']}")
                continue
            t = tolerances.get(o["output"], {})
            lines.append(failed_output_line(o, precision, t.get("factor", float("nan")), t.get("floor", float("nan"))))
        pytest_command = (f"pytest --artabpfn-vectors {shlex.quote(vectors)} --artabpfn-adapter {shlex.quote(adapter)}"
                          f" --artabpfn-precision {precision} -k {shlex.quote(verdict['name'])}")
        lines.append(f"reproduce: {pytest_command}")
        lines.append(f"     or: python -m artabpfn.conformance run {shlex.quote(vectors)} RESULTS --adapter "
                     f"{shlex.quote(adapter)} --case {verdict['name']} && "
                     f"python -m artabpfn.conformance check {shlex.quote(vectors)} --results RESULTS "
                     f"--case {verdict['name']} --precision {precision}")
        return "\n".join(lines)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, ConformanceFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.config.getoption("artabpfn_vectors"), None, f"conformance case {self.name}"


_RESULTS = pytest.StashKey[str]()
