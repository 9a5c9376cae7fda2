#!/usr/bin/env bash
# The main job on the embedded default: does domain instruction tuning help the pretrained backbone?
# Sets up the machine, builds the tools (release), fetches SmolLM2-135M-Instruct (scripts/fetch-model.sh, cached),
# and compares, on the same held-back examples of EcomGPT's 12 tasks, the base model with the model LoRA-tuned on
# the tasks' supervised splits (setting 3 of Docs/RESULTS.md: the first 300 examples of each task after a seeded
# shuffle are trained on, in ChatML turns, the loss on the answers; the rest are held back):
#   1. the backbone as an HF directory (tokenizer, chat template)      runs/default/base
#   2. instruction records                                               runs/default/data
#   3. ChatML conversations packed into 512-token sequences              runs/default/packed
#   4. the base model on the held-back examples (greedy)                 runs/default/eval-base
#   5. LoRA (rank 16, all seven projections) within the training budget   runs/default/adapter
#   6. the tuned model on the same examples, and the comparison          runs/default/eval-tuned, report.html
# Every finished step is kept: a rerun skips it (the base evaluation is reused while its settings are unchanged) and
# training resumes until its budget is spent. Without the backbone (no package registry and no cache) the job says
# so and runs the from-scratch `tiny` BLOOM pipeline instead (scripts/lib/main_tiny.sh), labelled as such.
# Environment: ECOM_SHARED_DATA (../shared/data), ECOM_RUN_DIR (runs/default), ECOM_TRAIN_SECONDS (600),
# ECOM_JOB_MINUTES (30: the whole job's time, which sizes the evaluations), ECOM_EVAL_LIMIT (examples per task; auto:
# the base model is evaluated on 20 per task, then both evaluations get 50, 40 or 30 when the rate just measured fits
# them in the job's time, else 20; a number or "all" fixes it), ECOM_SEQ_LEN (512), ECOM_LORA_RANK (16), ECOM_LR
# (1e-3), ECOM_BATCH (2), ECOM_MAX_NEW_TOKENS (auto: each task's budget from its reference answers), ECOM_PRECISION
# (auto: training's products in bf16 on a CPU with AVX512_BF16), ECOM_SEED (0), ECOM_TOKENS_PER_SECOND (unset: the
# LoRA speed is measured on this machine, 10 steps, before training, and the cosine schedule sized to fill 90% of the
# budget; set: that speed is assumed).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/lib/train_budget.sh
source "$root/scripts/lib/train_budget.sh"
# shellcheck source=scripts/lib/backbone.sh
source "$root/scripts/lib/backbone.sh"
start=$(date +%s)
bash scripts/setup.sh
echo "main: building the tools (release; the first build takes a few minutes)" >&2
swift build -c release >&2
bin="$(swift build -c release --show-bin-path)"

shared="${ECOM_SHARED_DATA:-$root/../shared/data}"
run="${ECOM_RUN_DIR:-$root/runs/default}"
train_seconds="${ECOM_TRAIN_SECONDS:-600}"
eval_limit="${ECOM_EVAL_LIMIT:-auto}"
job_minutes="${ECOM_JOB_MINUTES:-30}"
backbone_settings "$train_seconds"

if ! gguf="$(backbone_gguf)"; then
  echo "main: THE PRETRAINED BACKBONE IS UNAVAILABLE (no package registry and no cached GGUF): running the" >&2
  echo "main: from-scratch tiny BLOOM pipeline instead; its scores are the constant-answer floor, not the papers' result" >&2
  exec bash "$root/scripts/lib/main_tiny.sh"
fi
if [ ! -d "$shared/ecomgpt" ]; then
  echo "main: $shared/ecomgpt is missing: the comparison needs EcomGPT's held-out tasks (set ECOM_SHARED_DATA)" >&2
  exit 1
fi

built=$(( $(date +%s) - start ))
step_plan="as many steps of $batch x $seq_len as the speed measured on this machine fills"
[ -n "$steps" ] && step_plan="$steps steps of $batch x $seq_len at ECOM_TOKENS_PER_SECOND"
echo "main: backbone $gguf" >&2
limit_args=(--limit "$eval_limit")
eval_plan="$eval_limit examples x 12 tasks"
if [ "$eval_limit" = "all" ]; then
  limit_args=() eval_plan="all held-back examples"
elif [ "$eval_limit" = "auto" ]; then
  # The base evaluation of 20 per task measures this machine's rate; both evaluations then get up to 50 per task
  # where the job still ends within ECOM_JOB_MINUTES (two minutes to spare).
  limit_args=() eval_limit_plan="20 50 $(( start + job_minutes * 60 - 120 ))"
  eval_plan="20 examples x 12 tasks, then up to 50 x 12 as the measured rate allows within ${job_minutes} minutes"
fi
echo "main: budget: setup and build ${built}s so far; data and packing ~1 min; base evaluation ($eval_plan; kept on a" \
     "rerun); LoRA training ${train_seconds}s ($step_plan); tuned evaluation (the same examples); the report" >&2
status=0
backbone_run "$bin" "$run" "main:" "$train_seconds" \
  "--ecomgpt $shared/ecomgpt --held-out $shared/ecomgpt/held_out_tasks.txt --supervised-split 300 --no-atomic" \
  "--ecomgpt $shared/ecomgpt --supervised-split 300 ${limit_args[*]}" \
  "${train_flags[@]}" || status=$?
if [ "$status" -ne 0 ]; then
  echo "main: stopped before the end (see the messages above); run again to resume (finished steps are kept)" >&2
  exit "$status"
fi
echo "main: done in $(( ($(date +%s) - start) / 60 )) min. Report: $run/report.html (base: $run/eval-base, tuned: $run/eval-tuned," \
     "comparison: $run/report.json, adapter: $run/adapter)"
