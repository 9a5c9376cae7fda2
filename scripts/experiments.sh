#!/usr/bin/env bash
# The experiments of Docs/RESULTS.md on the pretrained backbone (SmolLM2-135M-Instruct), each end to end into
# runs/exp<N>/ (scripts/lib/backbone.sh): the base model and the model LoRA-tuned within the budget, evaluated on the
# same examples with the same prompts and greedy decoding, compared with 95% paired bootstrap intervals.
#   1. zero-shot held-out tasks, as EcomGPT: training data holds nothing of the 12 held-out tasks (UniversalNER-derived
#      instructions, the non-held-out EcomGPT task, atomic tasks, our raw sample); evaluated on the 12 tasks;
#   2. held-out task families: for each family (CLS, NER, Extract and Condition_Extract, Generate), tune on the
#      supervised splits of the other families' tasks and evaluate on the held-out family's held-back examples
#      (runs/exp2-<family>), then all 12 tasks compared together (runs/exp2);
#   3. supervised: tune on the first 300 examples of each task (seeded shuffle), evaluate on held-back examples (the
#      main job's setting, with more examples);
#   4. atomic tasks (Chain-of-Task): setting 1 without the atomic-task records, same budget (compare with 1);
#   5. UniversalNER: tune on the CrossNER literature, music, politics, science and MIT restaurant sets (conversation
#      format, negative type sampling), evaluate zero-shot on CrossNER_AI with the released prompt and evaluator, on
#      a sample half of whose questions name entities (ecom-eval --uniner-balanced);
#   6. UniversalNER with its dataset-specific format: setting 5 with the training sets' conversations naming their
#      dataset (ecom-data build --uniner-dataset-specific), evaluated with the released plain prompt (compare with 5;
#      the base model's evaluation is setting 5's, copied when runs/exp5 has it).
# The from-scratch `tiny` runs of earlier issues are kept as the floor: scripts/lib/main_tiny.sh.
# Usage: scripts/experiments.sh [1|2|3|4|5|6|all]   (default: all, one after another; running again resumes)
# Environment: ECOM_SHARED_DATA (../shared/data), ECOM_EXP_DIR (runs), ECOM_EXP_TRAIN_SECONDS (training budget per
# run, 600), ECOM_EXP_EVAL_LIMIT (examples per EcomGPT task, 50), ECOM_EXP_UNINER_LIMIT (CrossNER_AI questions, 400),
# ECOM_SEQ_LEN (512), ECOM_LORA_RANK (16), ECOM_LR (1e-3), ECOM_BATCH (2), ECOM_MAX_NEW_TOKENS (64), ECOM_SEED (0),
# ECOM_TOKENS_PER_SECOND (unset: measured on this machine before each run's training; scripts/lib/backbone.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=scripts/lib/train_budget.sh
source "$root/scripts/lib/train_budget.sh"
# shellcheck source=scripts/lib/backbone.sh
source "$root/scripts/lib/backbone.sh"
which="${1:-all}"
case "$which" in 1|2|3|4|5|6|all) ;; *) echo "usage: $0 [1|2|3|4|5|6|all]" >&2; exit 2 ;; esac

bash scripts/setup.sh
echo "experiments: building the tools (release)" >&2
swift build -c release >&2
bin="$(swift build -c release --show-bin-path)"
shared="${ECOM_SHARED_DATA:-$root/../shared/data}"
runs="${ECOM_EXP_DIR:-$root/runs}"
train_seconds="${ECOM_EXP_TRAIN_SECONDS:-600}"
eval_limit="${ECOM_EXP_EVAL_LIMIT:-50}"
uniner_limit="${ECOM_EXP_UNINER_LIMIT:-400}"
backbone_settings "$train_seconds"
for d in ecomgpt universal_ner; do
  [ -d "$shared/$d" ] || { echo "experiments: $shared/$d is missing (the experiments need the shared data)" >&2; exit 1; }
done
gguf="$(backbone_gguf)" || { echo "experiments: the pretrained backbone is unavailable (scripts/fetch-model.sh)" >&2; exit 1; }

held="$shared/ecomgpt/held_out_tasks.txt"
zero_shot="--raw $root/Sources/Instruct/Resources/raw_sample.jsonl --ecomgpt $shared/ecomgpt --held-out $held --uniner $shared/universal_ner"
ecomgpt_eval="--ecomgpt $shared/ecomgpt --limit $eval_limit"

# family_tasks FAMILY: the held-out tasks of a family, one a line (Extract includes Condition_Extract).
family_tasks() {
  case "$1" in
    Extract) grep -E -- '-(Extract|Condition_Extract)-' "$held" ;;
    *) grep -E -- "-$1-" "$held" ;;
  esac
}

for n in 1 2 3 4 5 6; do
  [ "$which" = all ] || [ "$which" = "$n" ] || continue
  case "$n" in
    1) backbone_run "$bin" "$runs/exp1" "experiments: [1 zero-shot]" "$train_seconds" "$zero_shot" "$ecomgpt_eval" "${train_flags[@]}" ;;
    2) for family in CLS NER Extract Generate; do
         run="$runs/exp2-$family"
         mkdir -p "$run"
         family_tasks "$family" > "$run/eval-tasks.txt"
         grep -vxF -f "$run/eval-tasks.txt" "$held" > "$run/trained-tasks.txt"
         backbone_run "$bin" "$run" "experiments: [2 held-out $family]" "$train_seconds" \
           "--ecomgpt $shared/ecomgpt --held-out $held --supervised-split 300 --supervised-tasks $run/trained-tasks.txt --no-atomic" \
           "$ecomgpt_eval --supervised-split 300 --tasks $run/eval-tasks.txt" "${train_flags[@]}"
       done
       # Every family held out once: the 12 tasks together, each scored by the model tuned without its family
       # (the four runs' predictions side by side, one paired comparison over all of them).
       for side in base tuned; do
         mkdir -p "$runs/exp2/eval-$side"
         cat "$runs"/exp2-{CLS,NER,Extract,Generate}/eval-$side/predictions.jsonl > "$runs/exp2/eval-$side/predictions.jsonl"
         cp "$runs/exp2-CLS/eval-$side/summary.json" "$runs/exp2/eval-$side/summary.json"
       done
       "$bin/ecom-eval" compare --base "$runs/exp2/eval-base" --tuned "$runs/exp2/eval-tuned" --out "$runs/exp2/report.html" \
         --title "SmolLM2-135M-Instruct: base against LoRA-tuned, each task family held out once (experiments: 2)" \
         --notes "Each task's tuned answers come from the model tuned on the other three families (runs/exp2-<family>)." \
         | tee "$runs/exp2/comparison.txt" ;;
    3) backbone_run "$bin" "$runs/exp3" "experiments: [3 supervised]" "$train_seconds" \
         "--ecomgpt $shared/ecomgpt --held-out $held --supervised-split 300 --no-atomic" \
         "$ecomgpt_eval --supervised-split 300" "${train_flags[@]}" ;;
    4) backbone_run "$bin" "$runs/exp4" "experiments: [4 zero-shot without atomic tasks]" "$train_seconds" \
         "$zero_shot --no-atomic" "$ecomgpt_eval" "${train_flags[@]}" ;;
    5|6) run="$runs/exp$n"
       uniner_train="$run/uniner-train"
       mkdir -p "$uniner_train"
       for f in CrossNER_literature CrossNER_music CrossNER_politics CrossNER_science mit-restaurant; do
         ln -sf "$shared/universal_ner/$f.json" "$uniner_train/$f.json"
       done
       extra="" label="experiments: [5 UniversalNER]"
       if [ "$n" = 6 ]; then
         extra=" --uniner-dataset-specific" label="experiments: [6 UniversalNER, dataset-specific format]"
         # The base model and its evaluation are setting 5's (same model, examples and flags): reused when present.
         for d in base eval-base; do
           if [ -d "$runs/exp5/$d" ] && [ ! -e "$run/$d" ]; then cp -r "$runs/exp5/$d" "$run/$d"; fi
         done
       fi
       backbone_run "$bin" "$run" "$label" "$train_seconds" \
         "--uniner $uniner_train --no-atomic$extra" \
         "--uniner $shared/universal_ner --uniner-files CrossNER_AI --limit $uniner_limit --uniner-balanced --uniner-max-new-tokens 64" \
         "${train_flags[@]}" ;;
  esac
done
