"""Runs an adapter over conformance vectors and writes its results.

    python3 -m artabpfn_conformance.run VECTORS_DIR RESULTS_DIR --adapter module:function
        [--contracts a,b] [--case NAME ...] [--quiet]

The adapter is called once per case of the index:

    function(contract, inputs, case, weights) -> {output name: numpy array} or None

``contract`` is the case's contract name, ``inputs`` its input tensors (numpy arrays, by name),
``case`` its index.json entry (shapes, params, tolerances), ``weights`` the model's state dict
(numpy float32 arrays) for the model jobs, else None. Returning None means "not implemented":
no result is written and the case is listed in RESULTS_DIR/skipped.txt (``artabpfn check
--allow-skipped`` reports it as skipped rather than missing). Results go to RESULTS_DIR/<case file>
(safetensors, the output tensors only). A missing vectors folder, a bad adapter spec or an
unwritable results folder is reported on one line with exit status 2; a case whose adapter call
fails is reported with its traceback and the run goes on (exit status 1 at the end). Then:

    artabpfn check VECTORS_DIR --results RESULTS_DIR --contracts <what the adapter implements>
"""

import argparse
import importlib
import os
import sys
import time
import traceback

import numpy as np
from safetensors.numpy import save_file

from .vectors import load_case, load_index, load_weights


PROG = "python3 -m artabpfn_conformance.run"


class UsageError(Exception):
    """Bad input: reported on one line, exit status 2."""


def _resolve(spec):
    module, _, name = spec.partition(":")
    if not module or not name:
        raise UsageError(f"--adapter must be module:function, not {spec!r}")
    try:
        function = getattr(importlib.import_module(module), name)
    except ImportError as e:
        raise UsageError(f"--adapter {spec!r}: cannot import module {module!r}: {e}") from None
    except AttributeError:
        raise UsageError(f"--adapter {spec!r}: module {module!r} has no {name!r}") from None
    if not callable(function):
        raise UsageError(f"--adapter {spec!r}: {name!r} is not a function")
    return function


def _load_index(vectors):
    if not os.path.isdir(vectors):
        raise UsageError(f"vectors folder {vectors!r} does not exist (write one with `artabpfn vectors --out DIR`)")
    try:
        return load_index(vectors)
    except (OSError, ValueError) as e:  # a missing or malformed index.json (JSONDecodeError is a ValueError)
        raise UsageError(f"{vectors}: not a conformance vectors folder: {e}") from None


def main(argv=None):
    try:
        return _run(argv)
    except UsageError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2


def _run(argv):
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("vectors")
    parser.add_argument("results")
    parser.add_argument("--adapter", required=True, help="module:function")
    parser.add_argument("--contracts", default="", help="only these contracts (comma-separated)")
    parser.add_argument("--case", action="append", default=[], help="only this case (repeatable)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    index = _load_index(args.vectors)
    adapter = _resolve(args.adapter)
    contracts = [c for c in args.contracts.split(",") if c]
    try:
        os.makedirs(args.results, exist_ok=True)
    except OSError as e:
        raise UsageError(f"results folder {args.results!r}: {e.strerror}") from None
    weights_cache = {}
    written = skipped = failed = 0
    declined = []
    start = time.time()
    for case in index["cases"]:
        if contracts and case["contract"] not in contracts:
            continue
        if args.case and case["name"] not in args.case:
            continue
        try:
            inputs, _, _ = load_case(args.vectors, case)
            model = case.get("model")
            if model and model not in weights_cache:
                weights_cache[model] = load_weights(args.vectors, index, model)[0]
            result = adapter(case["contract"], inputs, case, weights_cache.get(model) if model else None)
            if result is None:
                skipped += 1
                declined.append(case["name"])
                continue
            save_file({k: np.ascontiguousarray(v) for k, v in result.items()}, os.path.join(args.results, case["file"]))
            written += 1
            if not args.quiet:
                print(f"{case['name']}: written")
        except Exception:  # report and go on: a missing result fails the check
            failed += 1
            print(f"{case['name']}: adapter failed:\n{traceback.format_exc()}", file=sys.stderr)
    with open(os.path.join(args.results, "skipped.txt"), "w", encoding="utf-8") as f:
        f.writelines(name + "\n" for name in declined)
    print(f"artabpfn_conformance.run: wrote {written} results to {args.results}, {failed} failed, "
          f"{skipped} skipped ({time.time() - start:.1f} s)")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
