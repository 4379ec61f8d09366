#!/usr/bin/env bash
# Mutation test: an implementation under test must pass the conformance check as it is, and
# fail it with each planted fault (ARTABPFN_MUTANT=<name>). Prints which cases caught each
# mutant and writes WORK/mutants.tsv; exits 1 if the plain run fails or any mutant survives.
#
#   run_mutants.sh --cli ARTABPFN --adapter "COMMAND" --work DIR [--vectors DIR]
#                  [--contracts a,b] [--mutants "m1 m2 ..."] [--need-python] [--allow-skipped]
#                  [--jobs N] [--keep-going]
#
# COMMAND is run as `COMMAND VECTORS RESULTS [--contracts a,b] --quiet`. Without --vectors, the
# quick set is generated into WORK/vectors. --need-python: exit 77 (CTest's skip) when numpy or
# safetensors cannot be imported. --allow-skipped: cases the adapter declines (RESULTS/skipped.txt)
# are not failures (`artabpfn check --allow-skipped`). --jobs N: run N mutants at a time.
# --keep-going: run the mutants even when the plain run fails (a mutant then counts as caught
# only by cases that the plain run passes); the exit status is still 1.
set -uo pipefail
cli="" adapter="" work="" vectors="" contracts="" need_python=0 check_args=() jobs=1 keep_going=0
mutants="tf32_context ar_token_shift nan_empty_context first_sample_context no_score_scale target_sees_itself lse_base2 grid_y_limit"
while (($#)); do
  case "$1" in
    --cli) cli=$2; shift 2 ;;
    --adapter) adapter=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --vectors) vectors=$2; shift 2 ;;
    --contracts) contracts=$2; shift 2 ;;
    --mutants) mutants=$2; shift 2 ;;
    --need-python) need_python=1; shift ;;
    --allow-skipped) check_args+=(--allow-skipped); shift ;;
    --jobs) jobs=$2; shift 2 ;;
    --keep-going) keep_going=1; shift ;;
    *) echo "run_mutants.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -n "$cli" && -n "$adapter" && -n "$work" ]] || { echo "usage: see the header of $0" >&2; exit 2; }
if ((need_python)) && ! python3 -c "import numpy, safetensors" 2>/dev/null; then
  echo "SKIP: python3 cannot import numpy and safetensors (ci/bootstrap.sh installs them)"
  exit 77
fi
rm -rf "$work" && mkdir -p "$work"
if [[ -z "$vectors" ]]; then
  vectors=$work/vectors
  "$cli" vectors --out "$vectors" --quick || { echo "FAIL: vector generation"; exit 1; }
fi
selection=()
[[ -n "$contracts" ]] && selection=(--contracts "$contracts")

# run NAME: adapter (with ARTABPFN_MUTANT=NAME unless NAME is "none"), then check; returns check's status.
run() {
  local name=$1 mutant=$1
  [[ $name == none ]] && mutant=""
  ARTABPFN_MUTANT=$mutant $adapter "$vectors" "$work/results.$name" "${selection[@]}" --quiet >"$work/adapter.$name.txt" 2>&1
  "$cli" check "$vectors" --results "$work/results.$name" --report-dir "$work/report.$name" "${selection[@]}" "${check_args[@]}" \
    >"$work/check.$name.txt" 2>&1
}

plain_failed=0
if ! run none; then
  cat "$work/adapter.none.txt" "$work/check.none.txt"
  echo "FAIL: the implementation without a planted fault does not pass the check"
  ((keep_going)) || exit 1
  plain_failed=1
fi
plain_failing=" $(grep '^FAILING:' "$work/check.none.txt" | cut -d' ' -f2-) "
echo "unmutated: $(tail -n 1 "$work/adapter.none.txt")"
echo "unmutated: $(grep -E '^[0-9]+ passed' "$work/check.none.txt")"

# Every mutant's run (N at a time); each records check's exit status.
for m in $mutants; do
  while (($(jobs -rp | wc -l) >= jobs)); do wait -n; done
  (run "$m"; echo $? >"$work/status.$m") &
done
wait

printf 'mutant\tstatus\tfailing_cases\tcaught_by_contract\texamples\n' >"$work/mutants.tsv"
printf '%-22s %-9s %6s  %s\n' mutant status cases "caught by (contract: failing cases)"
survivors=0
for m in $mutants; do
  if [[ $(cat "$work/status.$m" 2>/dev/null) == 0 ]]; then
    status=SURVIVED
    survivors=$((survivors + 1))
    failing=""
  else
    status=caught
    failing=""
    for c in $(grep '^FAILING:' "$work/check.$m.txt" | cut -d' ' -f2-); do
      [[ $plain_failing == *" $c "* ]] || failing+="$c "
    done
    failing=${failing% }
    if [[ -z $failing ]]; then
      status=SURVIVED
      survivors=$((survivors + 1))
    fi
  fi
  count=$(wc -w <<<"$failing")
  by_contract=$(tr ' ' '\n' <<<"$failing" | sed -n 's/^\([a-z_0-9]*\)\..*/\1/p' | sort | uniq -c |
    awk '{printf "%s%s: %s", (NR > 1 ? ", " : ""), $2, $1}')
  examples=$(tr ' ' '\n' <<<"$failing" | head -n 3 | paste -sd' ' -)
  printf '%-22s %-9s %6s  %s\n' "$m" "$status" "$count" "$by_contract"
  [[ -n "$examples" ]] && printf '%-22s %-9s %6s  e.g. %s\n' "" "" "" "$examples"
  printf '%s\t%s\t%s\t%s\t%s\n' "$m" "$status" "$count" "$by_contract" "$examples" >>"$work/mutants.tsv"
done
if ((plain_failed)); then
  echo "FAIL: the plain run failed (mutants judged by the cases it passes)"
  exit 1
fi
if ((survivors > 0)); then
  echo "FAIL: $survivors mutant(s) survived (see $work/check.<mutant>.txt)"
  exit 1
fi
echo "every mutant was caught ($(wc -w <<<"$mutants") mutants)"
