"""How implementations fare under every precision of the conformance check: each one's worst
error / limit ratio per precision.

    python3 -m artabpfn_conformance.precision_report VECTORS --cli ARTABPFN --work DIR \\
        --implementations torch [--cpu-adapter PATH] [--expect-own]

(or python3 python/artabpfn_conformance/precision_report.py ...: it needs only the standard library).

An implementation is KIND:PRECISION, or KIND alone for all four precisions, KIND being
    cpu    the CPU implementation under test (--cpu-adapter) with ARTABPFN_PRECISION=PRECISION;
    numpy  artabpfn_conformance.numpy_adapter:PRECISION;
    torch  artabpfn_conformance.torch_adapter:PRECISION (torch:tf32 is float32 with TF32 allowed);
the Python ones run with this interpreter. Each runs once on the attention contracts and the
merge; `artabpfn check --precision P` then judges its results for every precision P. One row per
implementation: per precision, pass or FAIL and the worst ratio max |result - expected| / limit
over every output of the cases checked (NaN: a NaN result). numpy:bf16 needs ml_dtypes and is
reported as skipped without it.

--expect-own: exit 1 unless every implementation passes its own precision and, when that is not
float32, fails float32 (an honest low-precision implementation must be told apart from a float32
one). Exit 77 (CTest's skip) when the artabpfn check has no --precision.
"""

import argparse
import importlib.util
import json
import math
import os
import subprocess
import sys

PRECISIONS = ("float32", "tf32", "bf16", "fp16")
CONTRACTS = "shared_context_attention,buffer_attention_decode,buffer_attention_teacher_forcing,fused_attention,merge_states"
KINDS = ("cpu", "numpy", "torch")
PROG = "python3 -m artabpfn_conformance.precision_report"


def _implementations(specs):
    result = []
    for spec in specs.split(","):
        kind, _, precision = spec.partition(":")
        if kind not in KINDS or (precision and precision not in PRECISIONS):
            raise SystemExit(f"{PROG}: error: implementation {spec!r} is not KIND[:PRECISION] "
                             f"with KIND in {', '.join(KINDS)} and PRECISION in {', '.join(PRECISIONS)}")
        result += [(kind, p) for p in ([precision] if precision else PRECISIONS)]
    return result


def _missing_module(kind, precision):
    needed = {"numpy": ["numpy", "safetensors"], "torch": ["numpy", "safetensors", "torch"]}.get(kind, [])
    if kind == "numpy" and precision == "bf16":
        needed.append("ml_dtypes")
    return next((m for m in needed if importlib.util.find_spec(m) is None), None)


def _run_implementation(kind, precision, args, results):
    """Runs one implementation over the vectors; returns its log."""
    env = dict(os.environ, ARTABPFN_PRECISION=precision)
    env.pop("ARTABPFN_MUTANT", None)
    if kind == "cpu":
        command = [args.cpu_adapter]
    else:
        command = [sys.executable, "-m", "artabpfn_conformance.run", "--adapter",
                   f"artabpfn_conformance.{kind}_adapter:{precision}"]
    done = subprocess.run(command + [args.vectors, results, "--contracts", CONTRACTS, "--quiet"], env=env,
                          capture_output=True, text=True)
    return done.stdout + done.stderr


def _number(x):
    return float(x) if isinstance(x, str) else x


def _judge(args, results, precision, report_dir):
    """check --precision on one results folder: (ok, worst ratio or None, summary)."""
    command = [args.cli, "check", args.vectors, "--results", results, "--contracts", CONTRACTS, "--allow-skipped",
               "--report-dir", report_dir]
    if precision != "float32":
        command += ["--precision", precision]
    subprocess.run(command, capture_output=True, text=True)
    with open(os.path.join(report_dir, "report.json"), encoding="utf-8") as f:
        report = json.load(f)
    worst = None
    for case in report["cases"]:
        if case["status"] not in ("pass", "fail"):
            continue  # missing, skipped, not applicable
        for o in case["outputs"]:
            limit, error = _number(o["limit"]), _number(o["max_error"])
            ratio = math.nan if math.isnan(error) else (error / limit if limit > 0 else math.inf * (error > 0))
            if worst is None or math.isnan(ratio) or (not math.isnan(worst) and ratio > worst):
                worst = ratio
    return report["summary"]["ok"], worst, report["summary"]


def _cell(ok, worst):
    if worst is None:
        return "n/a"
    return f"{'pass' if ok else 'FAIL'} {'NaN' if math.isnan(worst) else f'{worst:.3g}'}"


def main(argv=None):
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("vectors")
    parser.add_argument("--cli", required=True, help="the artabpfn executable")
    parser.add_argument("--work", required=True, help="folder for results and reports (emptied first)")
    parser.add_argument("--implementations", required=True, help="comma-separated KIND[:PRECISION]")
    parser.add_argument("--cpu-adapter", help="conformance_cpu_adapter, for the cpu kind")
    parser.add_argument("--expect-own", action="store_true")
    args = parser.parse_args(argv)
    implementations = _implementations(args.implementations)
    if any(kind == "cpu" for kind, _ in implementations) and not args.cpu_adapter:
        parser.error("the cpu kind needs --cpu-adapter")
    help_text = subprocess.run([args.cli, "check", "--help"], capture_output=True, text=True).stdout
    judged = [p for p in PRECISIONS if p == "float32" or "--precision" in help_text]
    if len(judged) < len(PRECISIONS) and args.expect_own:
        print(f"SKIP: {args.cli} check has no --precision: the per-precision tolerances are not in this build")
        return 77
    subprocess.run(["rm", "-rf", args.work], check=True)
    os.makedirs(args.work)

    rows, problems = [], []
    for kind, precision in implementations:
        name = f"{kind}:{precision}"
        missing = _missing_module(kind, precision)
        if missing:
            print(f"{name}: skipped (python3 cannot import {missing})")
            continue
        results = os.path.join(args.work, f"results.{kind}.{precision}")
        log = _run_implementation(kind, precision, args, results)
        cells = {}
        for judge in judged:
            report_dir = os.path.join(args.work, f"report.{kind}.{precision}.{judge}")
            cells[judge] = _judge(args, results, judge, report_dir)
        ok_own, _, own = cells[precision] if precision in cells else (None, None, None)
        if args.expect_own:
            if not ok_own:
                problems.append(f"{name} does not pass its own precision ({own}); run log:\n{log}")
            if precision != "float32" and cells["float32"][0]:
                problems.append(f"{name} passes float32: the check cannot tell it from a float32 implementation")
        rows.append((name, cells))

    if not rows:
        print("SKIP: no implementation could run")
        return 77
    width = max([len(r[0]) for r in rows] + [len("implementation")])
    print(f"{'implementation':<{width}}  " + "  ".join(f"{p:<14}" for p in PRECISIONS))
    for name, cells in rows:
        own = name.split(":")[1]
        text = [(_cell(*cells[p][:2]) if p in cells else "n/a") + ("*" if p == own else "") for p in PRECISIONS]
        print(f"{name:<{width}}  " + "  ".join(f"{t:<14}" for t in text))
    print("(* its own precision; each cell: the check's verdict and the worst error / limit ratio)")
    for p in problems:
        print(f"FAIL: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
