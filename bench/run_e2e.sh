#!/usr/bin/env bash
# End-to-end benchmarks on one GPU, in one call: bench/e2e/e2e_bench (ceilings, decode steps,
# stage profiles, sweeps of whole calls) and the PyTorch baseline on the same GPU, merged into
# OUTDIR/e2e.json. Charts and the tables of docs/performance.md are made elsewhere from that file
# (bench/e2e/render.sh; needs matplotlib, not a GPU).
#
#   bench/run_e2e.sh OUTDIR [--quick | --smoke] [--build DIR] [--weights FILE] [--precisions LIST]
#
# --precisions: the engine precisions to time, comma-separated (float32, tf32, tf32x3; default
# float32); each adds its steps and points to the run's time.
#
# Run from anywhere; it works in the repository root. Time (H100): at most 5 min 50 s for full
# (e2e_bench plans within 250 s and is stopped at 275 s; the baseline at 70 s), --quick under a
# minute (25 s planned, stopped at 30 s; baseline at 20 s), --smoke (tiny shapes; the GPU smoke test) about 20 s. e2e_bench rewrites
# its JSON after every point, so a stop keeps what was measured.
#
# Environment: ARTABPFN_BUILD_DIR (default build-perf), ARTABPFN_E2E_BENCH (the binary; default
# BUILD_DIR/bench/e2e/e2e_bench), ARTABPFN_WEIGHTS (default fixtures/peer/paper_weights.safetensors),
# PYTHON (default python3). Exit status: e2e_bench's (0 when it finished); a baseline that fails
# or cannot run is recorded in e2e.json, not fatal.
set -uo pipefail
caller=$PWD
cd "$(dirname "$0")/.."
root=$PWD
abs() { case $1 in /*) echo "$1" ;; *) echo "$caller/$1" ;; esac; }

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 2; }
out="" mode=full precisions=float32 build=${ARTABPFN_BUILD_DIR:-build-perf} weights=${ARTABPFN_WEIGHTS:-$root/fixtures/peer/paper_weights.safetensors}
while [ $# -gt 0 ]; do
  case $1 in
    --quick) mode=quick ;;
    --smoke) mode=smoke ;;
    --build) build=$(abs "$2"); shift ;;
    --weights) weights=$(abs "$2"); shift ;;
    --precisions) precisions=$2; shift ;;
    -h|--help) usage ;;
    -*) echo "run_e2e.sh: unknown option $1" >&2; usage ;;
    *) [ -z "$out" ] && out=$(abs "$1") || usage ;;
  esac
  shift
done
[ -n "$out" ] || usage
bin=${ARTABPFN_E2E_BENCH:-$build/bench/e2e/e2e_bench}
python=${PYTHON:-python3}
case $mode in
  full) engine_budget=250 engine_stop=275 torch_limit=70 torch_batches="1 256 1024 16384 65536" ;;
  quick) engine_budget=25 engine_stop=30 torch_limit=20 torch_batches="1 256" ;;
  smoke) engine_budget=60 engine_stop=90 torch_limit=60 torch_batches="1" ;;
esac
mkdir -p "$out"
[ -x "$bin" ] || { echo "run_e2e.sh: no e2e_bench at $bin (build it: cmake --build $build --target e2e_bench)" >&2; exit 2; }
[ -f "$weights" ] || { echo "run_e2e.sh: no weights at $weights" >&2; exit 2; }
start=$(date +%s)
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,clocks.sm,temperature.gpu,power.limit --format=csv \
  > "$out/nvidia_smi.csv" 2>/dev/null || true

echo "== e2e_bench ($mode, budget ${engine_budget} s)"
timeout "$engine_stop" "$bin" --mode "$mode" --budget-s "$engine_budget" --weights "$weights" \
  --precisions ${precisions//,/ } \
  --out "$out/e2e_engine.json" 2>&1 | tee "$out/e2e_engine.log"
engine_rc=${PIPESTATUS[0]}
echo "e2e_bench exit $engine_rc after $(( $(date +%s) - start )) s"
[ "$engine_rc" = 3 ] && { echo "run_e2e.sh: no usable CUDA GPU; nothing measured" >&2; exit 3; }

echo "== PyTorch baseline (B $torch_batches, at most ${torch_limit} s)"
script=bench/torch_baseline/torch_decode_step.py
expected_sha=d57b4d017346cdde6f8024fe6ac57b170233c2d4a8b1c2f110d76da5348e8928
sha=$(sha256sum "$script" | cut -d' ' -f1)
loader=safetensors status=ran torch_rc=""
: > "$out/torch.jsonl"
if ! "$python" -c "import torch" 2>/dev/null; then
  status="not run: python cannot import torch"
elif [ "$sha" != "$expected_sha" ]; then
  status="not run: $script has SHA-256 $sha, not the shared baseline's $expected_sha"
else
  pythonpath=${PYTHONPATH:-}
  if ! "$python" -c "import safetensors.torch" 2>/dev/null; then
    loader="bench/torch_baseline/shim (safetensors not installed)"
    pythonpath=$root/bench/torch_baseline/shim${pythonpath:+:$pythonpath}
  fi
  PYTHONPATH=$pythonpath timeout "$torch_limit" "$python" "$script" "$weights" $torch_batches \
    > "$out/torch.jsonl" 2> "$out/torch.log"
  torch_rc=$?
  cat "$out/torch.jsonl"
  [ "$torch_rc" = 0 ] || { status="exit $torch_rc (124: stopped at the ${torch_limit} s limit)"; tail -5 "$out/torch.log"; }
fi
torch_version=$("$python" -c "import torch; print(torch.__version__, torch.version.cuda)" 2>/dev/null || echo unknown)
"$python" - "$out/torch_meta.json" "$status" "$loader" "$sha" "$torch_version" "$torch_limit" "$torch_batches" <<'EOF'
import json, sys
path, status, loader, sha, version, limit, batches = sys.argv[1:8]
json.dump({"status": status, "loader": loader, "script": "bench/torch_baseline/torch_decode_step.py",
           "script_sha256": sha, "torch_version": version, "time_limit_s": int(limit),
           "batches": [int(b) for b in batches.split()]}, open(path, "w"), indent=1)
EOF

echo "== merge"
if [ -s "$out/e2e_engine.json" ]; then
  "$python" bench/e2e/merge_results.py "$out/e2e_engine.json" --torch "$out/torch.jsonl" \
    --torch-meta "$out/torch_meta.json" --out "$out/e2e.json"
fi
[ -f "$out/e2e.json" ] && echo "run_e2e.sh: $mode done in $(( $(date +%s) - start )) s; results in $out/e2e.json"
exit "$engine_rc"
