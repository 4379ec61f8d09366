#!/usr/bin/env bash
# Chart and README tables from bench/run_e2e.sh's output, on any machine (no GPU needed):
#   bench/e2e/render.sh OUTDIR      reads OUTDIR/e2e.json, writes OUTDIR/e2e.png and OUTDIR/e2e.md
# Installs matplotlib (bench/e2e/requirements.txt) from PyPI into a virtual environment at
# $ARTABPFN_BENCH_VENV (default ~/.cache/artabpfn/bench-venv) the first time.
set -euo pipefail
caller=$PWD
cd "$(dirname "$0")/../.."
[ $# -eq 1 ] || { echo "usage: bench/e2e/render.sh OUTDIR" >&2; exit 2; }
case $1 in /*) out=$1 ;; *) out=$caller/$1 ;; esac
[ -f "$out/e2e.json" ] || { echo "render.sh: no $out/e2e.json" >&2; exit 2; }
venv=${ARTABPFN_BENCH_VENV:-$HOME/.cache/artabpfn/bench-venv}
if ! "$venv/bin/python" -c "import matplotlib" 2>/dev/null; then
  python3 -m venv "$venv" || { apt-get install -y python3-venv >/dev/null && python3 -m venv "$venv"; }
  "$venv/bin/python" -m pip install --quiet -r bench/e2e/requirements.txt
fi
"$venv/bin/python" bench/e2e/render.py "$out/e2e.json" --png "$out/e2e.png" --markdown "$out/e2e.md"
echo "wrote $out/e2e.png and $out/e2e.md"
