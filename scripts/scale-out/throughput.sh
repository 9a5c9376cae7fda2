#!/usr/bin/env bash
# Training throughput of scripts/scale-out/train.py on this machine's accelerator (or CPU): full fine-tuning (DDP),
# LoRA rank 16 on every projection (DDP) and full fine-tuning (FSDP), each for STEPS steps of --batch BATCH (default 8)
# sequences per rank, bf16 autocast on CUDA (f32 on CPU). Steady tokens/s counts the packed tokens of steps 6..STEPS over their wall time.
#
#   scripts/scale-out/throughput.sh MODEL_DIR PACKED_DIR OUT_DIR [STEPS] [-- extra train.py flags]
#
# NPROC (default 1) ranks per run; PY (default python3) runs torchrun; PYTHONPATH must reach ./python (ecom_shards)
# unless it is installed. Writes OUT_DIR/<run>/metrics.jsonl and prints one JSON line per run, then a summary line.
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,9p' "$0"; exit 2; }
MODEL="$1" DATA="$2" OUT="$3"; shift 3
STEPS=30
if [ $# -gt 0 ] && [ "$1" != "--" ]; then STEPS="$1"; shift; fi
[ "${1:-}" = "--" ] && shift
HERE="$(cd "$(dirname "$0")" && pwd)"
PY="${PY:-python3}"
DTYPE=$("$PY" -c 'import torch; print("bf16" if torch.cuda.is_available() else "f32")')
mkdir -p "$OUT"
declare -a LINES=()
for run in full-ddp lora16-ddp full-fsdp; do
    case "$run" in
        full-ddp) flags=(--strategy ddp) ;;
        lora16-ddp) flags=(--strategy ddp --lora-rank 16 --lr 1e-3) ;;
        full-fsdp) flags=(--strategy fsdp) ;;
    esac
    echo "== $run" >&2
    "$PY" -m torch.distributed.run --standalone --nproc_per_node "${NPROC:-1}" "$HERE/train.py" --model "$MODEL" --data "$DATA" \
        --out "$OUT/$run" --steps "$STEPS" --batch "${BATCH:-8}" --dtype "$DTYPE" --warmup-ratio 0 --log-every 10 "${flags[@]}" "$@" >&2
    line=$("$PY" - "$OUT/$run" "$run" "${NPROC:-1}" <<'EOF'
import json, sys
rows = [m for m in map(json.loads, open(sys.argv[1] + "/metrics.jsonl")) if m["split"] == "train"]
state = json.load(open(sys.argv[1] + "/trainer_state.json"))
first = rows[min(5, len(rows) - 2)]
last = rows[-1]
tokens = (last["tokens_per_s"] * last["elapsed_s"]) - (first["tokens_per_s"] * first["elapsed_s"])
print(json.dumps({"run": sys.argv[2], "ranks": int(sys.argv[3]), "dtype": state["dtype"], "attention": state["attention"],
                  "batch_per_rank": state["global_batch"] // state["world_size"], "steps": len(rows),
                  "steady_tokens_per_s": round(tokens / (last["elapsed_s"] - first["elapsed_s"]), 1),
                  "first_loss": round(rows[0]["loss"], 4), "last_loss": round(last["loss"], 4)}))
EOF
)
    echo "$line"
    LINES+=("$line")
done
echo "throughput: ${#LINES[@]} runs of $STEPS steps on $("$PY" -c 'import torch; print(torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU")')"
