"""python -m artabpfn.conformance generate|run|check: the vectors, the adapter runner and the
checker from a shell. Exit status: 0 success; 1 a failing or missing case (check) or a failing
adapter call (run); 2 bad input, with a one-line message."""

import argparse
import sys

from . import DEFAULT_SEED, PRECISIONS, check, generate, run_adapter

PROG = "python -m artabpfn.conformance"


def _parser():
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    g = commands.add_parser("generate", aliases=["vectors"], help="write conformance vectors (as `artabpfn vectors`)")
    g.add_argument("out", nargs="?")
    g.add_argument("--out", dest="out_option", help="the same as OUT (as `artabpfn vectors --out`)")
    size = g.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="the quick set (the default)")
    size.add_argument("--full", action="store_true", help="the full set")
    g.add_argument("--seed", type=int, default=DEFAULT_SEED)
    g.add_argument("--case", action="append", default=[], help="only this case (repeatable)")
    r = commands.add_parser("run", help="run an adapter over vectors and write its results")
    r.add_argument("vectors")
    r.add_argument("results")
    r.add_argument("--adapter", required=True, help="module:function")
    r.add_argument("--contracts", default="")
    r.add_argument("--case", action="append", default=[])
    c = commands.add_parser("check", help="check results against vectors (as `artabpfn check`)")
    c.add_argument("vectors")
    c.add_argument("--results", required=True)
    c.add_argument("--contracts", default="")
    c.add_argument("--case", action="append", default=[])
    c.add_argument("--allow-skipped", action="store_true")
    c.add_argument("--report-dir")
    c.add_argument("--precision", default="float32", choices=PRECISIONS)
    return parser


def main(argv=None):
    args = _parser().parse_args(argv)
    contracts = [name for name in getattr(args, "contracts", "").split(",") if name]
    try:
        if args.command in ("generate", "vectors"):
            out = args.out or args.out_option
            if not out:
                raise ValueError("give the output folder: generate OUT")
            s = generate(out, "full" if args.full else "quick", args.seed, args.case)
            print(f"vectors: {s['cases']} cases, {s['bytes'] / 1e6:.2f} MB in {out} ({s['seconds']:.1f} s)")
            return 0
        if args.command == "run":
            return run_adapter(args.vectors, args.results, args.adapter, contracts, args.case, quiet=False)
        report = check(args.vectors, args.results, contracts, args.case, args.allow_skipped, args.report_dir,
                       args.precision, program=PROG)
        print(report.table, end="")
        if args.report_dir:
            print(f"reports: {args.report_dir}/report.json, {args.report_dir}/junit.xml")
        return 0 if report.ok else 1
    except ValueError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
