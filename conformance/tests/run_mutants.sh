#!/usr/bin/env bash
# Mutation test: an implementation under test must pass the conformance check as it is, and
# fail it with each planted fault (ARTABPFN_MUTANT=<name>). Prints one line per mutant (which
# cases caught it) and writes WORK/mutants.tsv; exits 1 if a plain run fails or any mutant survives.
#
#   run_mutants.sh --cli ARTABPFN --adapter "COMMAND" --work DIR [--vectors DIR]
#                  [--contracts a,b] [--mutants "m1 m2:bf16 ..."] [--need-python "MODULES"] [--allow-skipped]
#                  [--jobs N] [--keep-going]
#
# COMMAND is run as `COMMAND VECTORS RESULTS [--contracts a,b] --quiet`. Without --vectors, the
# quick set is generated into WORK/vectors. A mutant NAME:PRECISION is a fault of a kernel in that
# precision (float32 when none is given): the adapter runs with ARTABPFN_PRECISION=PRECISION and
# the check with `--precision PRECISION`, and the plain run it is judged against is the one in the
# same precision (one plain run per precision the list names; runs in a precision other than
# float32 allow the cases the adapter declines in it; where `artabpfn check` has no --precision,
# the mutants of other precisions are listed as untested). --need-python "numpy ...": exit 77
# (CTest's skip) when python3 cannot import one of these modules. --allow-skipped: cases the adapter declines
# (RESULTS/skipped.txt) are not failures (`artabpfn check --allow-skipped`). --jobs N: run N
# mutants at a time. --keep-going: run the mutants even when a plain run fails (a mutant then
# counts as caught only by cases that its plain run passes); the exit status is still 1.
set -uo pipefail
cli="" adapter="" work="" vectors="" contracts="" python_modules="" allow_skipped=0 jobs=1 keep_going=0
mutants="tf32_context ar_token_shift nan_empty_context first_sample_context no_score_scale target_sees_itself lse_base2
  grid_y_limit no_rescale last_block_mask_plus_one last_block_mask_minus_one lse_first_block_max tf_mask_tile_boundary
  bf16_accumulate:bf16 fp16_score_overflow:fp16"
while (($#)); do
  case "$1" in
    --cli) cli=$2; shift 2 ;;
    --adapter) adapter=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --vectors) vectors=$2; shift 2 ;;
    --contracts) contracts=$2; shift 2 ;;
    --mutants) mutants=$2; shift 2 ;;
    --need-python) python_modules=$2; shift 2 ;;
    --allow-skipped) allow_skipped=1; shift ;;
    --jobs) jobs=$2; shift 2 ;;
    --keep-going) keep_going=1; shift ;;
    *) echo "run_mutants.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -n "$cli" && -n "$adapter" && -n "$work" ]] || { echo "usage: see the header of $0" >&2; exit 2; }
for module in $python_modules; do
  python3 -c "import $module" 2>/dev/null ||
    { echo "SKIP: python3 cannot import $module (ci/bootstrap.sh installs it)"; exit 77; }
done
rm -rf "$work" && mkdir -p "$work"
if [[ -z "$vectors" ]]; then
  vectors=$work/vectors
  "$cli" vectors --out "$vectors" --quick || { echo "FAIL: vector generation"; exit 1; }
fi
selection=()
[[ -n "$contracts" ]] && selection=(--contracts "$contracts")

precision_of() { [[ $1 == *:* ]] && echo "${1#*:}" || echo float32; }
name_of() { echo "${1%%:*}"; }

# Precisions other than float32 need `artabpfn check --precision`.
untested=0
if ! "$cli" check --help | grep -q -- --precision; then
  judged=""
  for m in $mutants; do
    if [[ $(precision_of "$m") == float32 ]]; then judged+="$m "
    else
      echo "$(name_of "$m") untested: $cli check has no --precision $(precision_of "$m")"
      untested=$((untested + 1))
    fi
  done
  mutants=$judged
fi

# run RUN MUTANT PRECISION: the adapter (with ARTABPFN_MUTANT=MUTANT, "" for none, and
# ARTABPFN_PRECISION=PRECISION), then check; files WORK/*.RUN.*; returns check's status.
run() {
  local id=$1 mutant=$2 precision=$3 check_args=()
  [[ $precision != float32 ]] && check_args+=(--precision "$precision")
  ((allow_skipped)) || [[ $precision != float32 ]] && check_args+=(--allow-skipped)
  ARTABPFN_MUTANT=$mutant ARTABPFN_PRECISION=$precision $adapter "$vectors" "$work/results.$id" "${selection[@]}" --quiet \
    >"$work/adapter.$id.txt" 2>&1
  "$cli" check "$vectors" --results "$work/results.$id" --report-dir "$work/report.$id" "${selection[@]}" "${check_args[@]}" \
    >"$work/check.$id.txt" 2>&1
}

# The plain run of every precision the mutants name.
plain_failed=0
for precision in $(for m in $mutants; do precision_of "$m"; done | sort -u); do
  id=none.$precision
  if ! run "$id" "" "$precision"; then
    cat "$work/adapter.$id.txt" "$work/check.$id.txt"
    echo "FAIL: the implementation without a planted fault does not pass the $precision check"
    ((keep_going)) || exit 1
    plain_failed=1
  fi
  echo "unmutated ($precision): $(tail -n 1 "$work/adapter.$id.txt")"
  echo "unmutated ($precision): $(grep -E '^[0-9]+ passed' "$work/check.$id.txt")"
done

# Every mutant's run (N at a time); each records check's exit status.
for m in $mutants; do
  while (($(jobs -rp | wc -l) >= jobs)); do wait -n; done
  (run "$(name_of "$m")" "$(name_of "$m")" "$(precision_of "$m")"; echo $? >"$work/status.$(name_of "$m")") &
done
wait

printf 'mutant\tstatus\tfailing_cases\tprecision\tcaught_by_contract\texamples\n' >"$work/mutants.tsv"
printf '%-26s %-9s %6s  %-9s %s\n' mutant status cases precision "caught by (contract: failing cases)"
survivors=0
for m in $mutants; do
  name=$(name_of "$m") precision=$(precision_of "$m")
  plain_failing=" $(grep '^FAILING:' "$work/check.none.$precision.txt" | cut -d' ' -f2-) "
  failing=""
  if [[ $(cat "$work/status.$name" 2>/dev/null) != 0 ]]; then
    for c in $(grep '^FAILING:' "$work/check.$name.txt" | cut -d' ' -f2-); do
      [[ $plain_failing == *" $c "* ]] || failing+="$c "
    done
  fi
  failing=${failing% }
  status=caught
  if [[ -z $failing ]]; then
    status=SURVIVED
    survivors=$((survivors + 1))
  fi
  count=$(wc -w <<<"$failing")
  by_contract=$(tr ' ' '\n' <<<"$failing" | sed -n 's/^\([a-z_0-9]*\)\..*/\1/p' | sort | uniq -c |
    awk '{printf "%s%s: %s", (NR > 1 ? ", " : ""), $2, $1}')
  examples=$(tr ' ' '\n' <<<"$failing" | head -n 3 | paste -sd' ' -)
  printf '%-26s %-9s %6s  %-9s %s\n' "$name" "$status" "$count" "$precision" "$by_contract"
  [[ -n "$examples" ]] && printf '%-26s %-9s %6s  %-9s e.g. %s\n' "" "" "" "" "$examples"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$status" "$count" "$precision" "$by_contract" "$examples" >>"$work/mutants.tsv"
done
if ((plain_failed)); then
  echo "FAIL: a plain run failed (mutants judged by the cases it passes)"
  exit 1
fi
if ((survivors > 0)); then
  echo "FAIL: $survivors mutant(s) survived (see $work/check.<mutant>.txt)"
  exit 1
fi
echo "every mutant was caught ($(wc -w <<<"$mutants") mutants$( ((untested)) && echo ", $untested untested"))"
