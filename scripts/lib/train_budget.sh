# Training within a time budget that counts across resumed sessions, shared by scripts/main.sh and
# scripts/experiments.sh (sourced). ecom-train's --time-budget counts one session, so a resumed run gets what is left
# of the budget after the elapsed time recorded in the model's metrics.jsonl; RUN/train.done marks the budget spent or
# the steps finished.

# train_elapsed MODEL_DIR: the last elapsed_s of the trainer's metrics, in whole seconds (0 when none).
train_elapsed() {
  local e=0
  [ -f "$1/metrics.jsonl" ] && e="$(grep -o '"elapsed_s": *[0-9.]*' "$1/metrics.jsonl" | tail -1 | grep -o '[0-9.]*$' || true)"
  printf '%.0f' "${e:-0}"
}

# train_within_budget BIN RUN OUT SECONDS LABEL STALE [ecom-train flags...]: ecom-train on RUN/packed into OUT
# (the model flags among the given ones: `--preset tiny --lr 1e-3` from scratch, or `--init MODEL --lora-rank R ...`),
# with validation and a checkpoint every 100 steps (callers may override), resuming, until SECONDS of training are
# spent or the trainer finishes its steps; the log is appended to RUN/train.log, and the evaluation directory STALE
# is removed once the model changes. Returns 0 when training is done (RUN/train.done written), 1 when it was
# interrupted (run again to resume); exits the calling script when ecom-train fails.
train_within_budget() {
  local bin="$1" run="$2" model="$3" budget="$4" label="$5" stale="$6"
  shift 6
  if [ -f "$run/train.done" ]; then
    echo "$label training: already done ($model; remove $run/train.done to train further)" >&2
    return 0
  fi
  local left=$(( budget - $(train_elapsed "$model") ))
  if [ "$left" -gt 10 ]; then
    echo "$label training into $model, ${left}s of the ${budget}s budget left" >&2
    local status=0
    "$bin/ecom-train" --data "$run/packed" --out "$model" --time-budget "$left" --resume \
      --eval-every 100 --save-every 100 "$@" 2>&1 | tee -a "$run/train.log" >&2 || status=$?
    rm -rf "$stale" "$stale.txt"  # the model changed: earlier evaluation results no longer apply
    # A failing trainer stops the calling script (callers test this function, which turns `set -e` off inside it).
    if [ "$status" -ne 0 ]; then
      echo "$label training: ecom-train failed (exit $status); see $run/train.log" >&2
      exit "$status"
    fi
  fi
  # Done when the budget is spent or the trainer finished its steps (it exits after either; an interrupted run has
  # neither and resumes next time).
  if [ $(( budget - $(train_elapsed "$model") )) -le 10 ] || tail -3 "$run/train.log" 2>/dev/null | grep -q "finished"; then
    date -u +%FT%TZ > "$run/train.done"
    return 0
  fi
  echo "$label training interrupted; run again to resume" >&2
  return 1
}
