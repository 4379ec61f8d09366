#!/usr/bin/env python3
"""JSON summary of a ci/gpu.sh run: test counts per label, GPUs, driver, CUDA, commit, build flags.

Reads ctest's JUnit XML (results) and `ctest --show-only=json-v1` (labels), the build tree's
CMakeCache.txt (flags), and asks nvidia-smi, nvcc and git about the environment. Prints a short
table and writes the JSON to --out. Exit status: 0 when the gate passes (no failed test, no
skipped GPU test, at least one GPU test ran unless --allow-no-gpu), 1 otherwise.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

SCHEMA = "artabpfn-gpu-ci-summary/1"


def run(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def gpus():
    fields = ["index", "name", "driver_version", "compute_cap", "memory.total", "pci.bus_id"]
    out = run(["nvidia-smi", "--query-gpu=" + ",".join(fields), "--format=csv,noheader"])
    found = []
    for line in out.strip().splitlines():
        values = [v.strip() for v in line.split(",")]
        if len(values) == len(fields):
            found.append(dict(zip(["index", "name", "driver", "compute_cap", "memory", "pci_bus_id"], values)))
    return found


def driver_cuda_version():
    match = re.search(r"CUDA Version:\s*([0-9.]+)", run(["nvidia-smi"]))
    return match.group(1) if match else None


def nvcc_version(cache):
    nvcc = cache.get("CMAKE_CUDA_COMPILER") or "nvcc"
    match = re.search(r"release ([0-9.]+), V([0-9.]+)", run([nvcc, "--version"]))
    return match.group(2) if match else None


def git_commit(root):
    commit = os.environ.get("ARTABPFN_GIT_COMMIT")
    if commit:
        return commit, None
    head = run(["git", "-C", root, "rev-parse", "HEAD"]).strip()
    if not head:
        return None, None
    dirty = bool(run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"]).strip())
    return head, dirty


def read_cache(build):
    cache = {}
    try:
        with open(os.path.join(build, "CMakeCache.txt"), encoding="utf-8", errors="replace") as f:
            for line in f:
                match = re.match(r"^([A-Za-z_0-9.-]+):[A-Z_]+=(.*)$", line.rstrip("\n"))
                if match:
                    cache[match.group(1)] = match.group(2)
    except OSError:
        pass
    return cache


def labels_by_test(tests_json):
    labels = {}
    try:
        with open(tests_json, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return labels
    for test in data.get("tests", []):
        names = []
        for prop in test.get("properties", []):
            if prop.get("name") == "LABELS":
                names = list(prop.get("value", []))
        labels[test["name"]] = names
    return labels


def results(junit):
    """name -> (status, seconds, output): status is passed, failed or skipped."""
    out = {}
    try:
        root = ET.parse(junit).getroot()
    except (OSError, ET.ParseError):
        return out
    for case in root.iter("testcase"):
        status = case.get("status", "")
        if case.find("failure") is not None or status == "fail":
            outcome = "failed"
        elif case.find("skipped") is not None or status in ("notrun", "disabled"):
            outcome = "skipped"
        else:
            outcome = "passed"
        text = case.findtext("system-out") or ""
        out[case.get("name")] = (outcome, float(case.get("time") or 0), text)
    return out


def sanitizer_line(text):
    lines = [l.strip() for l in text.splitlines() if "ERROR SUMMARY" in l or "RACECHECK SUMMARY" in l]
    return lines[-1] if lines else None


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--junit", required=True)
    p.add_argument("--tests-json", required=True)
    p.add_argument("--build-dir", required=True)
    p.add_argument("--source-dir", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--ctest-exit", type=int, required=True)
    p.add_argument("--build-seconds", type=float)
    p.add_argument("--test-seconds", type=float)
    p.add_argument("--ctest-args", default="")
    p.add_argument("--cmake-args", default="")
    p.add_argument("--resource-spec")
    p.add_argument("--mode", default="full")
    p.add_argument("--deps")
    p.add_argument("--prebuilt", action="store_true")
    p.add_argument("--allow-no-gpu", action="store_true")
    a = p.parse_args()

    cache = read_cache(a.build_dir)
    labels = labels_by_test(a.tests_json)
    outcomes = results(a.junit)

    per_label, totals = {}, {"run": 0, "passed": 0, "failed": 0, "skipped": 0}
    failed, skipped_gpu, sanitizers = [], [], {}
    for name, (outcome, seconds, text) in sorted(outcomes.items()):
        names = labels.get(name, []) or ["(none)"]
        for label in names + [None]:
            bucket = totals if label is None else per_label.setdefault(
                label, {"run": 0, "passed": 0, "failed": 0, "skipped": 0, "seconds": 0.0})
            bucket["run"] += 1
            bucket[outcome] += 1
            if label is not None:
                bucket["seconds"] = round(bucket["seconds"] + seconds, 3)
        if outcome == "failed":
            failed.append(name)
        if outcome == "skipped" and "gpu" in names:
            skipped_gpu.append(name)
        if "sanitize" in names:
            sanitizers[name] = {"outcome": outcome, "seconds": round(seconds, 2), "summary": sanitizer_line(text)}

    gpu_ran = per_label.get("gpu", {}).get("passed", 0) + per_label.get("gpu", {}).get("failed", 0)
    problems = []
    if a.ctest_exit != 0:
        problems.append(f"ctest exited with {a.ctest_exit}")
    if failed:
        problems.append(f"{len(failed)} failed tests")
    if skipped_gpu and not a.allow_no_gpu:
        problems.append(f"{len(skipped_gpu)} GPU tests skipped")
    if not outcomes:
        problems.append("no test results (JUnit XML missing or empty)")
    if gpu_ran == 0 and not a.allow_no_gpu:
        problems.append("no GPU test ran")

    commit, dirty = git_commit(a.source_dir)
    resource_spec = None
    if a.resource_spec:
        try:
            with open(a.resource_spec, encoding="utf-8") as f:
                resource_spec = json.load(f)
        except (OSError, ValueError):
            pass
    keys = ["CMAKE_BUILD_TYPE", "CMAKE_CXX_COMPILER", "CMAKE_CXX_FLAGS", "CMAKE_CXX_FLAGS_RELEASE",
            "CMAKE_CUDA_COMPILER", "CMAKE_CUDA_FLAGS", "CMAKE_CUDA_FLAGS_RELEASE", "CMAKE_CUDA_ARCHITECTURES",
            "CMAKE_CUDA_HOST_COMPILER", "ARTABPFN_WITH_CUDA", "ARTABPFN_WITH_MULTIPRECISION",
            "ARTABPFN_SLOW_TESTS", "ARTABPFN_DEPS_DIR", "ARTABPFN_COMPUTE_SANITIZER", "CMAKE_GENERATOR"]
    summary = {
        "schema": SCHEMA,
        "result": "passed" if not problems else "failed",
        "problems": problems,
        "mode": a.mode,
        "git": {"commit": commit, "dirty": dirty},
        "gpus": gpus(),
        "driver_cuda_version": driver_cuda_version(),
        "nvcc_version": nvcc_version(cache),
        "build": {
            "dir": os.path.abspath(a.build_dir),
            "prebuilt": a.prebuilt,
            "deps": a.deps,
            "cmake_args": a.cmake_args.split(),
            "cache": {k: cache[k] for k in keys if k in cache},
            "seconds": a.build_seconds,
        },
        "ctest": {
            "args": a.ctest_args.split(),
            "exit_code": a.ctest_exit,
            "seconds": a.test_seconds,
            "resource_spec": resource_spec,
            "junit": os.path.basename(a.junit),
        },
        "totals": totals,
        "labels": dict(sorted(per_label.items())),
        "failed_tests": failed,
        "skipped_gpu_tests": skipped_gpu,
        "sanitizers": sanitizers,
    }
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")

    print(f"{'label':<12}{'run':>6}{'passed':>8}{'failed':>8}{'skipped':>9}{'seconds':>10}")
    for label, c in summary["labels"].items():
        print(f"{label:<12}{c['run']:>6}{c['passed']:>8}{c['failed']:>8}{c['skipped']:>9}{c['seconds']:>10.1f}")
    print(f"{'total':<12}{totals['run']:>6}{totals['passed']:>8}{totals['failed']:>8}{totals['skipped']:>9}")
    for name, s in sanitizers.items():
        print(f"{name}: {s['outcome']} in {s['seconds']} s; {s['summary'] or 'no summary line'}")
    for name in failed:
        print(f"FAILED: {name}")
    for name in skipped_gpu:
        print(f"SKIPPED (GPU): {name}")
    gpu_text = "; ".join(f"{g['index']}: {g['name']} (sm {g['compute_cap']}, driver {g['driver']})" for g in summary["gpus"])
    print(f"GPUs: {gpu_text or 'none'}; CUDA (driver) {summary['driver_cuda_version']}; nvcc {summary['nvcc_version']}")
    print(f"commit {commit}{' (dirty)' if dirty else ''}; summary: {a.out}")
    print("gpu-ci: " + ("PASSED" if not problems else "FAILED: " + "; ".join(problems)))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
