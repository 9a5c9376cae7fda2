# One base-against-tuned comparison on the pretrained backbone (SmolLM2-135M-Instruct), shared by scripts/main.sh
# and scripts/experiments.sh (sourced after scripts/lib/train_budget.sh). Every step is skipped when its output
# marks it finished, so running again resumes.

# backbone_settings TRAIN_SECONDS: the shared settings from the environment: seq_len (ECOM_SEQ_LEN, 512), lora_rank
# (ECOM_LORA_RANK, 16), lr (ECOM_LR, 1e-3), batch (ECOM_BATCH, 2), max_new (ECOM_MAX_NEW_TOKENS, auto: each task's
# budget from its reference answers, ecom-eval --max-new-tokens auto), precision (ECOM_PRECISION, auto: training's
# products in bf16 where the CPU has AVX512_BF16, else f32), seed (ECOM_SEED, 0), train_flags (5% warm-up, validation
# every 25 steps, a checkpoint every 10) and steps: sized so that the cosine schedule ends with TRAIN_SECONDS at
# ECOM_TOKENS_PER_SECOND positions/s when that is set, else empty: backbone_run then measures this machine's speed
# first (backbone_steps).
backbone_settings() {
  seq_len="${ECOM_SEQ_LEN:-512}"
  lora_rank="${ECOM_LORA_RANK:-16}"
  lr="${ECOM_LR:-1e-3}"
  batch="${ECOM_BATCH:-2}"
  max_new="${ECOM_MAX_NEW_TOKENS:-auto}"
  seed="${ECOM_SEED:-0}"
  precision="${ECOM_PRECISION:-auto}"
  steps=""
  if [ -n "${ECOM_TOKENS_PER_SECOND:-}" ]; then
    steps=$(( $1 * ECOM_TOKENS_PER_SECOND / (batch * seq_len) ))
    [ "$steps" -ge 1 ] || steps=1
  fi
  train_flags=(--warmup-ratio 0.05 --eval-every 25 --eval-batches 2 --save-every 10)
}

# backbone_steps BIN RUN TRAIN_SECONDS [ecom-train model flags...]: prints the optimizer steps that fill TRAIN_SECONDS
# on this machine: $steps when set (ECOM_TOKENS_PER_SECOND), else the count recorded in RUN/steps for the same
# settings (so that a resumed run keeps its schedule), else measured: 10 steps of the same training into a scratch
# directory, positions/s over steps 3-10 from the trainer's metrics (the first steps pay one-time costs; fewer steps
# misread the speed by up to a fifth, as documents of other lengths make steps of other costs), times 90%
# of the budget (validation and checkpoints take the rest). The cosine schedule then ends with the budget on a fast
# machine and a slow one alike (sized from a fixed speed, a machine 3x faster than the assumed one finished its
# steps in a third of the budget).
backbone_steps() {
  local bin="$1" run="$2" seconds="$3"
  shift 3
  if [ -n "$steps" ]; then echo "$steps"; return 0; fi
  local key="seconds $seconds batch $batch seq_len $seq_len rank $lora_rank precision $precision"
  if [ -f "$run/steps" ] && [ "$(head -1 "$run/steps")" = "$key" ]; then sed -n 2p "$run/steps"; return 0; fi
  local scratch="$run/calibration" rate
  rm -rf "$scratch"
  echo "measuring this machine's training speed (10 steps of $batch x $seq_len) to size the schedule to ${seconds}s" >&2
  "$bin/ecom-train" --data "$run/packed" --out "$scratch" --steps 10 --warmup-ratio 0 --save-every 0 "$@" > /dev/null 2>&1 || true
  rate="$(grep '"split":"train"' "$scratch/metrics.jsonl" 2>/dev/null | awk -v p=$(( batch * seq_len )) '
    { match($0, /"elapsed_s": *[0-9.e+-]+/); e = substr($0, RSTART, RLENGTH); sub(/^"elapsed_s": */, "", e)
      match($0, /"step": *[0-9]+/); s = substr($0, RSTART, RLENGTH); sub(/^"step": */, "", s); t[s + 0] = e + 0 }
    END { if ((10 in t) && (2 in t) && t[10] > t[2]) printf "%.0f", 8 * p / (t[10] - t[2]) }' || true)"
  rm -rf "$scratch"
  if [ -z "$rate" ]; then
    echo "could not measure the training speed (no metrics from ecom-train's 10 steps); assuming 160 positions/s" >&2
    rate=160
  fi
  local n
  n="$(awk -v s="$seconds" -v r="$rate" -v b="$batch" -v l="$seq_len" 'BEGIN { n = int(0.90 * s * r / (b * l)); print (n < 1 ? 1 : n) }')"
  echo "measured ${rate} positions/s: $n steps of $batch x $seq_len fill ${seconds}s" >&2
  printf '%s\n%s\n%s\n' "$key" "$n" "$rate" > "$run/steps.tmp" && mv "$run/steps.tmp" "$run/steps"
  echo "$n"
}

# backbone_eval_limit BIN OUT LABEL FIRST MOST DEADLINE TRAIN_SECONDS [ecom-eval flags...]: evaluates FIRST examples
# per task into OUT (eval_once), then prints the examples per task both evaluations can have: the largest of MOST,
# MOST-10, ... above FIRST (else FIRST) for which extending this evaluation, the speed measurement, training and the tuned evaluation
# (at the rate just measured) end by DEADLINE (epoch seconds). The answer is kept in OUT.limit for the same flags, so
# a rerun, whose evaluation is already done, keeps it.
backbone_eval_limit() {
  local bin="$1" out="$2" label="$3" first="$4" most="$5" deadline="$6" seconds="$7"
  shift 7
  local key="$* first $first most $most"
  if [ -f "$out.limit" ] && [ "$(head -1 "$out.limit")" = "$key" ]; then sed -n 2p "$out.limit"; return 0; fi
  local before=0 after t0 took
  [ -f "$out/predictions.jsonl" ] && before="$(wc -l < "$out/predictions.jsonl")"
  t0=$(date +%s)
  eval_once "$bin" "$out" "$label" "$@" --limit "$first" || return 1
  took=$(( $(date +%s) - t0 ))
  after="$(wc -l < "$out/predictions.jsonl")"
  [ "$before" -le "$after" ] || before=0  # the evaluation started over (its settings changed)
  local n
  n="$(backbone_limit_that_fits "$(date +%s)" "$deadline" "$seconds" "$first" "$most" "$took" $(( after - before )) "$after")"
  echo "$label the base model's $after examples took ${took}s: $n examples per task fit the job's time" \
       "(evaluations, the speed measurement and ${seconds}s of training by $(date -u -d "@$deadline" +%H:%M) UTC)" >&2
  printf '%s\n%s\n' "$key" "$n" > "$out.limit.tmp" && mv "$out.limit.tmp" "$out.limit"
  echo "$n"
}

# backbone_limit_that_fits NOW DEADLINE TRAIN_SECONDS FIRST MOST TOOK MADE TOTAL: the examples per task that fit, after
# an evaluation that made MADE examples in TOOK seconds and holds TOTAL (FIRST per task): the largest of MOST, MOST-10,
# ... above FIRST for which extending the evaluation to k per task, a minute for the speed measurement, TRAIN_SECONDS
# of training, the tuned evaluation of k per task (at the same rate) and half a minute for the report end by DEADLINE;
# else FIRST (also when nothing was made, so no rate was measured).
backbone_limit_that_fits() {
  awk -v now="$1" -v d="$2" -v s="$3" -v f="$4" -v m="$5" -v took="$6" -v made="$7" -v total="$8" 'BEGIN {
    if (made <= 0) { print f; exit }
    spe = took / made; tasks = total / f; n = f
    for (k = m; k > f; k -= 10) if (now + spe * (k - f) * tasks + 60 + s + spe * k * tasks + 30 <= d) { n = k; break }
    print n }'
}

# backbone_gguf: prints the GGUF path (fetched once into the model cache); returns 1 with fetch-model's message when
# the backbone cannot be had (no registry and no cache).
backbone_gguf() {
  local out
  out="$(bash "$root/scripts/fetch-model.sh" 2>&1)" || { printf '%s\n' "$out" | tail -3 >&2; return 1; }
  printf '%s\n' "$out" | tail -n 1
}

# eval_once BIN OUT LABEL [ecom-eval flags...]: ecom-eval into OUT, resuming finished examples; when OUT holds an
# evaluation with other settings (OUT/flags differs other than in --limit, which only adds or leaves out examples),
# it is redone from scratch (--restart).
eval_once() {
  local bin="$1" out="$2" label="$3"
  shift 3
  local flags restart=()
  flags="$(printf '%s' "$*" | sed -E 's/ ?--limit [0-9]+//')"
  if [ -f "$out/flags" ] && [ "$(cat "$out/flags")" != "$flags" ]; then
    echo "$label: settings changed since $out was written: evaluating again" >&2
    restart=(--restart)
  fi
  mkdir -p "$out"
  "$bin/ecom-eval" "$@" "${restart[@]}" --out "$out" > "$out.txt" || return 1
  printf '%s' "$flags" > "$out/flags"
  tail -n 14 "$out.txt" >&2
}

# backbone_run BIN RUN LABEL TRAIN_SECONDS "BUILD FLAGS" "EVAL FLAGS" [ecom-train flags...]
#   RUN/base        the backbone as an HF directory (tokenizer.json and tokenizer_config.json with the chat template)
#   RUN/data        instruction records (ecom-data build BUILD FLAGS --seed $seed)
#   RUN/packed      ChatML conversations packed into $seq_len-token sequences, loss on the assistant's turns
#   RUN/eval-base   the base model on the evaluation examples (EVAL FLAGS; greedy, $max_new new tokens)
#   RUN/adapter     LoRA adapters (PEFT layout) trained within TRAIN_SECONDS
#   RUN/eval-tuned  the tuned model on the same examples, prompts and decoding
#   RUN/report.html base and tuned side by side with 95% bootstrap intervals (RUN/comparison.json)
# Needs $gguf and backbone_settings's variables set by the caller. With eval_limit_plan="FIRST MOST DEADLINE" set (the
# main job), EVAL FLAGS carry no --limit: the base model is evaluated on FIRST examples per task and both evaluations
# then get as many as fit before DEADLINE (backbone_eval_limit). Training starts over when its flags or its data's
# changed (RUN/train.flags): a finished adapter is kept only for the settings and data it was trained with.
backbone_run() {
  local bin="$1" run="$2" label="$3" train_seconds="$4" build_flags="$5" eval_flags="$6"
  shift 6
  mkdir -p "$run"
  if [ ! -f "$run/base/tokenizer.json" ]; then
    echo "$label [1/6] backbone: writing $run/base (HF directory with tokenizer and chat template)" >&2
    "$bin/ecom-model" import-gguf "$gguf" --out "$run/base" --dtype bf16 > /dev/null || return 1
  else
    echo "$label [1/6] backbone: $run/base" >&2
  fi
  # Data and packing are redone when their settings changed (RUN/data.flags, RUN/packed.flags).
  local data_flags="$build_flags --seed $seed" pack_flags="--seq-len $seq_len --tokenizer $run/base"
  if [ ! -f "$run/data/manifest.json" ] || [ "$(cat "$run/data.flags" 2>/dev/null)" != "$data_flags" ]; then
    echo "$label [2/6] data: ecom-data build $build_flags" >&2
    rm -rf "$run/data" "$run/packed"
    # shellcheck disable=SC2086
    "$bin/ecom-data" build $data_flags --out "$run/data" > "$run/data-build.json" || return 1
    printf '%s' "$data_flags" > "$run/data.flags"
  else
    echo "$label [2/6] data: already built ($run/data)" >&2
  fi
  if [ ! -f "$run/packed/manifest.json" ] || [ "$(cat "$run/packed.flags" 2>/dev/null)" != "$pack_flags" ]; then
    echo "$label [3/6] packing: ChatML conversations, $seq_len-token sequences, loss on the assistant's turns" >&2
    rm -rf "$run/packed"
    "$bin/ecom-data" pack "$run/data" --tokenizer "$run/base" --seq-len "$seq_len" --out "$run/packed" > "$run/pack.json" || return 1
    printf '%s' "$pack_flags" > "$run/packed.flags"
  else
    echo "$label [3/6] packing: already done ($run/packed)" >&2
  fi
  local common=(--model "$gguf" --beams 1 --max-new-tokens "$max_new" --seed "$seed")
  echo "$label [4/6] evaluation of the base model ($run/eval-base; kept and skipped on a rerun with the same settings)" >&2
  if [ -n "${eval_limit_plan:-}" ]; then
    local first most deadline n
    read -r first most deadline <<< "$eval_limit_plan"
    # shellcheck disable=SC2086
    n="$(backbone_eval_limit "$bin" "$run/eval-base" "$label" "$first" "$most" "$deadline" "$train_seconds" "${common[@]}" $eval_flags)" || return 1
    eval_flags="$eval_flags --limit $n"
  fi
  # shellcheck disable=SC2086
  eval_once "$bin" "$run/eval-base" "$label" "${common[@]}" $eval_flags || return 1
  local model_flags=(--init "$gguf" --tokenizer "$run/base/tokenizer.json" --lora-rank "$lora_rank" --lr "$lr"
                     --batch "$batch" --seed "$seed" --precision "$precision")
  # The adapter belongs to its training flags and to the data it was trained on (a rebuilt or repacked split is new).
  local train_key="${model_flags[*]} $* seconds $train_seconds data $data_flags pack $pack_flags"
  if [ -f "$run/train.flags" ] && [ "$(cat "$run/train.flags")" != "$train_key" ]; then
    echo "$label training settings changed since $run/adapter was trained: training again" >&2
    rm -rf "$run/adapter" "$run/train.done" "$run/train.log" "$run/steps" "$run/eval-tuned" "$run/eval-tuned.txt"
  fi
  printf '%s' "$train_key" > "$run/train.flags.tmp" && mv "$run/train.flags.tmp" "$run/train.flags"
  local run_steps=""
  [ -f "$run/train.done" ] || run_steps="$(backbone_steps "$bin" "$run" "$train_seconds" "${model_flags[@]}")"
  # shellcheck disable=SC2086
  train_within_budget "$bin" "$run" "$run/adapter" "$train_seconds" "$label [5/6]" "$run/eval-tuned" \
    "${model_flags[@]}" ${run_steps:+--steps "$run_steps"} "$@" || return 1
  echo "$label [6/6] evaluation of the tuned model ($run/eval-tuned), then the comparison" >&2
  # shellcheck disable=SC2086
  eval_once "$bin" "$run/eval-tuned" "$label" "${common[@]}" --lora "$run/adapter" $eval_flags || return 1
  "$bin/ecom-eval" compare --base "$run/eval-base" --tuned "$run/eval-tuned" --out "$run/report.html" \
    --title "SmolLM2-135M-Instruct: base against LoRA-tuned (${label%:})" | tee "$run/comparison.txt"
}
