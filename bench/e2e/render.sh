#!/usr/bin/env bash
# Charts and tables from bench/run_e2e.sh's output, on any machine (no GPU needed):
#   bench/e2e/render.sh OUTDIR    reads OUTDIR/e2e.json, writes OUTDIR/e2e.md and OUTDIR/e2e.png
#   bench/e2e/render.sh --docs    writes docs/performance.md from bench/e2e/performance_intro.md
#                                 and the newest run per GPU among docs/bench/*.json, and each of
#                                 those runs' chart beside its JSON
# The charts need matplotlib (bench/e2e/requirements.txt), installed from PyPI into a virtual
# environment at $ARTABPFN_BENCH_VENV (default ~/.cache/artabpfn/bench-venv) the first time.
# Where that fails (no network), the tables are still written (with python3 alone) and the
# charts are left as they are.
set -euo pipefail
caller=$PWD
cd "$(dirname "$0")/../.."
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2; exit 2; }
[ $# -eq 1 ] || usage
case $1 in --docs) ;; -*) usage ;; /*) out=$1 ;; *) out=$caller/$1 ;; esac
[ "$1" = --docs ] || [ -f "$out/e2e.json" ] || { echo "render.sh: no $out/e2e.json" >&2; exit 2; }

venv=${ARTABPFN_BENCH_VENV:-$HOME/.cache/artabpfn/bench-venv}
python=python3
if "$venv/bin/python" -c "import matplotlib" 2>/dev/null; then
  python=$venv/bin/python
elif { python3 -m venv "$venv" || { apt-get install -y python3-venv >/dev/null && python3 -m venv "$venv"; }; } &&
     "$venv/bin/python" -m pip install --quiet -r bench/e2e/requirements.txt; then
  python=$venv/bin/python
else
  echo "render.sh: matplotlib could not be installed; writing the tables without charts" >&2
fi
charts=$([ "$python" = python3 ] && echo no || echo yes)

if [ "$1" = --docs ]; then
  shopt -s nullglob
  runs=(docs/bench/*.json)
  [ ${#runs[@]} -gt 0 ] || { echo "render.sh: no docs/bench/*.json" >&2; exit 2; }
  "$python" bench/e2e/render.py --page docs/performance.md --intro bench/e2e/performance_intro.md \
    $([ "$charts" = yes ] && echo --charts) "${runs[@]}"
  echo "wrote docs/performance.md$([ "$charts" = yes ] && echo " and the charts of its runs")"
  exit 0
fi

if [ "$charts" = yes ]; then
  "$python" bench/e2e/render.py "$out/e2e.json" --png "$out/e2e.png" --markdown "$out/e2e.md"
  echo "wrote $out/e2e.md and $out/e2e.png"
else
  "$python" bench/e2e/render.py "$out/e2e.json" --markdown "$out/e2e.md"
  echo "wrote $out/e2e.md"
fi
