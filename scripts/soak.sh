#!/usr/bin/env bash
# The kill -9 soak (issue 18): each tool is killed with SIGKILL at random moments, resumed (rerun) each time, and its
# final output compared with an uninterrupted run's. Kill moments come from a seeded generator and are printed, so a
# failure can be replayed with the same --seed (timings still vary with the machine's load). Half the kills land at a
# random time after the start, half just after the tool is seen writing (a temporary file or staging directory appearing
# in its output directory, or for ecom-eval an append), so that many interrupt a checkpoint or shard write.
#
#   scripts/soak.sh [all|train|eval|data|distill|diskfull] [--kills N] [--seed S] [--keep]
#
#   train     ecom-train --preset tiny --save-every 1, killed N times: weights, config, tokenizer and loss.svg byte for
#             byte, trainer_state.bin (JSON header without elapsed_s; AdamW moments byte for byte: data position,
#             schedule, step) and metrics.jsonl (losses, grad_norm, lr per step; tokens_per_s and elapsed_s aside)
#             equal to an uninterrupted run's; no temporary files left behind
#   eval      ecom-eval (tiny fixture Llama on the shared EcomGPT tasks, or the eval fixture without them), killed N
#             times: predictions (by task and id), summary.json (without this run's counts and seconds) and
#             eval-config.json equal to an uninterrupted run's
#   data      ecom-data build and pack, each killed N/2 times over an earlier complete output made with another --seed:
#             after every kill the directory has no manifest or one whose every shard has its recorded size, checksum
#             and record count (ecom-data inspect --verify); a rerun gives the uninterrupted output byte for byte
#   distill   ecom-distill against a slow fake teacher (scripts/serve/fake_endpoint.py --delay), killed N times: the
#             shards, manifest and summary (without this run's request counts) equal to an uninterrupted run's; after
#             every kill any manifest verifies; no more requests than chunks + in-flight ones lost to kills
#   diskfull  ecom-train with --out on a small tmpfs (mount -t tmpfs; needs root): a checkpoint that does not fit
#             fails with a message naming the file and exit 1, leaving the previous checkpoint, which then resumes
#             (after the tmpfs is enlarged) to the uninterrupted run's result; the same with the disk full from the start.
#             Skipped with a note when the mount is not permitted (a failure when CI=true)
#
# Options: --kills N (20; per part), --seed S (default: from the clock, printed), --keep (keep the work directory).
# Environment: ECOM_BIN (the tools; default .build/debug, built with `swift build` when missing), ECOM_SHARED_DATA
# (default ../shared/data: EcomGPT tasks for the eval and data parts; without it smaller fixtures are used),
# SOAK_DIR (work directory; default a new one under $TMPDIR). Progress on standard error, a PASS/FAIL line per part at
# the end; exit 1 on any mismatch or failure. About 5 minutes for all parts on 2 cores with the debug build.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
here="$root/scripts/soak"

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }
part="all"; kills=20; seed=""; keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --kills|--seed)
      [ $# -ge 2 ] || { echo "soak: $1 needs a value" >&2; exit 2; }
      if [ "$1" = --kills ]; then kills="$2"; else seed="$2"; fi
      shift 2 ;;
    --keep) keep=1; shift ;;
    all|train|eval|data|distill|diskfull) part="$1"; shift ;;
    *) echo "soak: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$kills" in ''|*[!0-9]*) echo "soak: --kills must be a whole number" >&2; exit 2 ;; esac
[ -z "$seed" ] && seed=$(( $(date +%s) % 100000 ))
case "$seed" in ''|*[!0-9]*) echo "soak: --seed must be a whole number" >&2; exit 2 ;; esac
command -v python3 >/dev/null || { echo "soak: python3 is needed" >&2; exit 1; }

bin="${ECOM_BIN:-$root/.build/debug}"
for tool in ecom-train ecom-eval ecom-data ecom-distill; do
  if [ ! -x "$bin/$tool" ]; then
    echo "soak: $bin/$tool missing: building (swift build)" >&2
    swift build >&2 || { echo "soak: build failed" >&2; exit 1; }
    bin="$(swift build --show-bin-path)"
    break
  fi
done
shared="${ECOM_SHARED_DATA:-$root/../shared/data}"
tok="$root/Tests/Fixtures/tokenizer/gpt2_small.json"
work="${SOAK_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/ecom-soak.XXXXXX")}"
mkdir -p "$work"
mnt=""; server_pid=""
results=(); failed=0
cleanup() {
  [ -n "$server_pid" ] && { kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; }
  [ -n "$mnt" ] && umount "$mnt" 2>/dev/null
  if [ "$failed" = 0 ] && [ "$keep" = 0 ]; then rm -rf "$work"; else echo "soak: work directory kept: $work" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "soak $*" >&2; }
record() {  # PASS|FAIL PART DETAIL
  results+=("$1 $2: $3")
  [ "$1" = FAIL ] && failed=1
  say "$2: $1: $3"
}
say "all: seed $seed, $kills kills per part, tools $bin, work $work (replay: scripts/soak.sh $part --kills $kills --seed $seed)"

# The seeded generator: bash's RANDOM, reseeded per part (so a part draws the same whatever ran before it). Draws set
# globals (a command substitution would draw in a subshell and never advance the sequence).
reseed() { RANDOM=$(( seed * 7 + $1 )); }
draw() {  # an integer in [LO, HI] (HI below LO counts as LO)
  local hi=$(( $2 > $1 ? $2 : $1 ))
  draw_value=$(( $1 + (RANDOM * 32768 + RANDOM) % (hi - $1 + 1) ))
}
ms() { printf '%d.%03d' $(( $1 / 1000 )) $(( $1 % 1000 )); }
now_ms() { date +%s%3N; }

# after_kill PART LABEL LOG: sorts kill_once's $outcome. Returns 0 when the tool was killed (and counts it in $k), 1 when
# it finished before the kill (said), 2 when it failed (recorded as FAIL).
after_kill() {
  case "$outcome" in
    killed*) k=$((k + 1)); return 0 ;;
    "exited 0"*) say "$1: $2 finished before kill $((k + 1)) ($moment): $outcome"; return 1 ;;
    *) record FAIL "$1" "$2 failed ($outcome): $(tail -3 "$3")"; return 2 ;;
  esac
}

# kill_once NAME LOG WATCH TRIGGER TMIN_MS TMAX_MS WMAX_MS -- COMMAND...: one run, killed at a drawn moment: with
# TRIGGER (write|change, or write:REGEX / change:REGEX for entries with matching names; "-" for none) half the time up
# to WMAX after the first write seen in WATCH, else uniformly in [TMIN, TMAX] after the start (with TMIN written
# +TMIN, after that first write too). Sets $outcome ("killed ..." or "exited N ...") and $moment.
kill_once() {
  local name="$1" log="$2" watch="$3" trigger="$4" tmin="$5" tmax="$6" wmax="$7"; shift 8
  local args=(--log "$log") spec=() label="${trigger%%:*}"
  if [ "$trigger" != "-" ]; then
    spec=(--watch "$watch" --trigger "${trigger%%:*}")
    [ "${trigger#*:}" != "$trigger" ] && spec+=(--match "${trigger#*:}")
  fi
  draw 0 1
  if [ "$trigger" != "-" ] && [ "${tmin#+}" != "$tmin" ]; then
    if [ "$draw_value" = 1 ]; then draw 0 "$wmax"; else draw "${tmin#+}" "$tmax"; fi
    moment="$label+$(ms "$draw_value")s"
    args+=("${spec[@]}" --delay "$(ms "$draw_value")")
  elif [ "$trigger" != "-" ] && [ "$draw_value" = 1 ]; then
    draw 0 "$wmax"; moment="$label+$(ms "$draw_value")s"
    args+=("${spec[@]}" --delay "$(ms "$draw_value")")
  else
    draw "$tmin" "$tmax"; moment="at $(ms "$draw_value")s"
    args+=(--delay "$(ms "$draw_value")")
    [ "$watch" != "-" ] && args+=(--watch "$watch")
  fi
  outcome="$(python3 "$here/kill_at.py" "${args[@]}" -- "$@")"
}

# finish LOG COMMAND...: runs to completion (10 minutes at most); non-zero when it fails.
finish() {
  local log="$1"; shift
  timeout 600 "$@" >> "$log" 2>&1
}

# ---------------------------------------------------------------------------------------------------------------
# train
train_data() {
  [ -f "$work/train-packed/manifest.json" ] && return 0
  "$bin/ecom-data" build --max-per-dataset 20 --seed 0 --out "$work/train-data" > /dev/null 2>> "$work/train-data.log" \
    && "$bin/ecom-data" pack "$work/train-data" --tokenizer "$tok" --seq-len 256 --out "$work/train-packed" > /dev/null 2>> "$work/train-data.log"
}

soak_train() {
  reseed 1
  local steps=$(( kills * 2 / 3 > 4 ? kills * 2 / 3 : 4 ))
  local args=(--data "$work/train-packed" --tokenizer "$tok" --preset tiny --steps "$steps" --batch 1 --lr 1e-3
              --save-every 1 --eval-every 5 --eval-batches 1 --threads 1 --seed 7)
  train_data || { record FAIL train "preparing the data failed: $(tail -3 "$work/train-data.log")"; return; }
  local ref="$work/train-ref" out="$work/train-soak" log="$work/train-soak.log" t0=$SECONDS
  say "train: uninterrupted run ($steps steps, tiny preset, --save-every 1)"
  finish "$work/train-ref.log" "$bin/ecom-train" "${args[@]}" --out "$ref" \
    || { record FAIL train "the uninterrupted run failed: $(tail -3 "$work/train-ref.log")"; return; }
  local reft=$(( SECONDS - t0 )) k=0 state
  t0=$SECONDS
  while [ "$k" -lt "$kills" ]; do
    kill_once train "$log" "$out" 'write:safetensors|trainer_state|checkpoint' 1500 5500 450 -- "$bin/ecom-train" "${args[@]}" --resume --out "$out"
    rc=0; after_kill train "a run" "$log" || rc=$?
    [ $rc -eq 1 ] && break
    [ $rc -eq 2 ] && return
    state="$(python3 "$here/compare.py" state "$out" 2>/dev/null || echo "no checkpoint yet")"
    say "train: kill $k/$kills $moment: $outcome; checkpoint: $state"
  done
  finish "$log" "$bin/ecom-train" "${args[@]}" --resume --out "$out" \
    || { record FAIL train "the final resume failed: $(tail -3 "$log")"; return; }
  local resumed; resumed="$(grep -c '^resumed at step' "$log")"
  if python3 "$here/compare.py" train "$ref" "$out" >&2; then
    record PASS train "$k kills, $resumed resumes: equal to the uninterrupted run (${reft}s; soak $(( SECONDS - t0 ))s)"
  else
    record FAIL train "$k kills, $resumed resumes: differs from the uninterrupted run (log: $log)"
  fi
}

# ---------------------------------------------------------------------------------------------------------------
# eval
soak_eval() {
  reseed 2
  local args
  if [ -d "$shared/ecomgpt" ]; then
    args=(--model "$root/Tests/Fixtures/llama/tiny.gguf" --ecomgpt "$shared/ecomgpt" --limit 4 --beams 1 --max-new-tokens 16
          --workers 2 --threads 1 --resamples 50)
  else
    say "eval: no shared data at $shared: the eval fixture instead"
    args=(--model "$root/Tests/Fixtures/eval/model" --ecomgpt "$root/Tests/Fixtures/eval/ecomgpt" --uniner "$root/Tests/Fixtures/eval/uniner"
          --beams 2 --max-new-tokens 64 --uniner-max-new-tokens 32 --batch-size 2 --workers 1 --threads 1 --seed 11 --resamples 50)
  fi
  local ref="$work/eval-ref" out="$work/eval-soak" log="$work/eval-soak.log" t0 k=0 n
  say "eval: uninterrupted run"
  t0=$(now_ms)
  finish "$work/eval-ref.log" "$bin/ecom-eval" "${args[@]}" --quiet --out "$ref" \
    || { record FAIL eval "the uninterrupted run failed: $(tail -3 "$work/eval-ref.log")"; return; }
  local reft=$(( $(now_ms) - t0 ))
  t0=$SECONDS
  local total; total="$(wc -l < "$ref/predictions.jsonl")"
  while [ "$k" -lt "$kills" ]; do
    kill_once eval "$log" "$out" 'change:^predictions' 300 $(( 300 + reft * 3 / (kills + 1) )) 150 -- "$bin/ecom-eval" "${args[@]}" --quiet --out "$out"
    rc=0; after_kill eval "a run" "$log" || rc=$?
    [ $rc -eq 1 ] && break
    [ $rc -eq 2 ] && return
    n=0; [ -f "$out/predictions.jsonl" ] && n="$(wc -l < "$out/predictions.jsonl")"
    say "eval: kill $k/$kills $moment: $outcome; $n of $total predictions stored"
  done
  finish "$log" "$bin/ecom-eval" "${args[@]}" --quiet --out "$out" \
    || { record FAIL eval "the final run failed: $(tail -3 "$log")"; return; }
  local torn; torn="$(grep -c 'dropped a torn last line' "$log")"
  if python3 "$here/compare.py" eval "$ref" "$out" >&2; then
    record PASS eval "$k kills ($torn torn lines dropped): equal to the uninterrupted run ($(ms "$reft")s; soak $(( SECONDS - t0 ))s)"
  else
    record FAIL eval "$k kills: differs from the uninterrupted run (log: $log)"
  fi
}

# ---------------------------------------------------------------------------------------------------------------
# data: build and pack
# verify_dir DIR: a manifest, when there is one, must describe whole shards.
verify_dir() {
  [ -f "$1/manifest.json" ] || { verdict="no manifest"; return 0; }
  if "$bin/ecom-data" inspect "$1" --verify > /dev/null 2> "$work/verify.err"; then verdict="manifest verifies"; return 0; fi
  verdict="manifest does NOT verify: $(tail -1 "$work/verify.err")"; return 1
}

# soak_data_step NAME KILLS REF OUT COMMAND...: the command (writing OUT) killed KILLS times, each kill followed by the
# manifest check, then run to completion and compared with REF. OUT holds a complete earlier output (made with
# another seed) to start with, so that a kill can leave new shards beside an old manifest.
soak_data_step() {
  local name="$1" n="$2" ref="$3" out="$4"; shift 4
  local log="$work/$name-soak.log" k=0 bad=0 tries=0
  while [ "$k" -lt "$n" ] && [ "$tries" -lt $(( 3 * n )) ]; do
    tries=$((tries + 1))
    kill_once "$name" "$log" "$out" write 100 "$window" 300 -- "$@"
    rc=0; after_kill data "$name" "$log" || rc=$?
    [ $rc -eq 1 ] && continue
    [ $rc -eq 2 ] && return 1
    verify_dir "$out" || bad=$((bad + 1))
    say "data: $name kill $k/$n $moment: $outcome; $verdict"
  done
  finish "$log" "$@" > /dev/null || { record FAIL data "$name: the final run failed: $(tail -3 "$log")"; return 1; }
  if [ "$bad" -gt 0 ]; then
    record FAIL data "$name: after $bad of $k kills the manifest described shards that are not the ones in the directory"
    return 1
  fi
  python3 "$here/compare.py" shards "$ref" "$out" >&2 || { record FAIL data "$name: $k kills: the rerun differs from the uninterrupted output"; return 1; }
  say "data: $name: $k kills, no manifest ever described a partial or foreign shard; the rerun equals the uninterrupted output"
}

soak_data() {
  reseed 3
  local src t0=$SECONDS b0
  if [ -d "$shared/ecomgpt" ]; then src=(--ecomgpt "$shared/ecomgpt" --supervised-split 60); else
    say "data: no shared data at $shared: the embedded raw sample instead (short runs)"; src=(--max-per-dataset 100); fi
  local build=("$bin/ecom-data" build "${src[@]}" --shard-mb 1)
  say "data: uninterrupted build and pack (and, into the directories to be soaked, the same with --seed 1)"
  b0=$(now_ms)
  "${build[@]}" --seed 0 --out "$work/build-ref" > /dev/null 2> "$work/build-ref.log" \
    || { record FAIL data "the uninterrupted build failed: $(tail -3 "$work/build-ref.log")"; return; }
  local buildt=$(( $(now_ms) - b0 ))
  "${build[@]}" --seed 1 --out "$work/build-soak" > /dev/null 2>> "$work/build-ref.log" \
    || { record FAIL data "the seed-1 build failed: $(tail -3 "$work/build-ref.log")"; return; }
  local pack=("$bin/ecom-data" pack "$work/build-ref" --tokenizer "$tok" --seq-len 256 --shard-mb 1)
  b0=$(now_ms)
  "${pack[@]}" --seed 0 --out "$work/pack-ref" > /dev/null 2> "$work/pack-ref.log" \
    || { record FAIL data "the uninterrupted pack failed: $(tail -3 "$work/pack-ref.log")"; return; }
  local packt=$(( $(now_ms) - b0 ))
  "${pack[@]}" --seed 1 --out "$work/pack-soak" > /dev/null 2>> "$work/pack-ref.log" \
    || { record FAIL data "the seed-1 pack failed: $(tail -3 "$work/pack-ref.log")"; return; }
  # Each rerun starts afresh (neither is resumable), so kills are spread over one run's duration.
  window=$(( buildt * 9 / 10 ))
  soak_data_step build $(( (kills + 1) / 2 )) "$work/build-ref" "$work/build-soak" "${build[@]}" --seed 0 --out "$work/build-soak" || return
  window=$(( packt * 9 / 10 ))
  soak_data_step pack $(( kills / 2 )) "$work/pack-ref" "$work/pack-soak" "${pack[@]}" --seed 0 --out "$work/pack-soak" || return
  record PASS data "build and pack, $kills kills: every manifest seen verified; reruns equal the uninterrupted outputs ($(( SECONDS - t0 ))s)"
}

# ---------------------------------------------------------------------------------------------------------------
# distill
soak_distill() {
  reseed 4
  local t0=$SECONDS passages="$work/passages.jsonl"
  python3 - "$passages" <<'EOF'
import json, random, sys
rng = random.Random(18)
names = ["Alice", "Bob", "Carol", "Dave", "Paris", "Tokyo", "Berlin", "Acme", "Globex"]
words = "the a long short grey quiet river bridge office flight coffee market report spring winter walked talked wrote visited".split()
with open(sys.argv[1], "w") as f:
    for i in range(60):
        parts = []
        for _ in range(rng.randint(2, 4)):
            parts.append(" ".join(rng.choice(words) for _ in range(rng.randint(4, 9))) + " " + rng.choice(names))
        f.write(json.dumps({"text": "Passage %d: " % i + ". ".join(parts) + ".", "source": "soak#%d" % i}) + "\n")
EOF
  python3 "$root/scripts/serve/fake_endpoint.py" --mode ok --delay 0.08 --port 0 --log "$work/teacher.log" > "$work/teacher.port" 2> "$work/teacher.err" &
  server_pid=$!
  local port=""
  for _ in $(seq 1 100); do port="$(sed -n 's/^port //p' "$work/teacher.port" 2>/dev/null)"; [ -n "$port" ] && break; sleep 0.05; done
  [ -n "$port" ] || { record FAIL distill "the fake teacher did not start"; return; }
  local args=(--teacher "http://127.0.0.1:$port/v1" --teacher-model fake --input "$passages" --tokenizer "$tok"
              --max-chunk-tokens 24 --concurrency 2 --quiet)
  local ref="$work/distill-ref" out="$work/distill-soak" log="$work/distill-soak.log" k=0 bad=0
  say "distill: uninterrupted run (fake teacher at port $port, 80 ms per answer)"
  local d0; d0=$(now_ms)
  finish "$work/distill-ref.log" "$bin/ecom-distill" "${args[@]}" --out "$ref" \
    || { record FAIL distill "the uninterrupted run failed: $(tail -3 "$work/distill-ref.log")"; return; }
  # The soaked directory starts with a complete earlier output of the first 10 passages (shards, manifest, cache), as a
  # rerun with more passages finds it: a kill while the new shards are written must not leave the old manifest.
  finish "$log" "$bin/ecom-distill" "${args[@]}" --max-passages 10 --out "$out" > /dev/null \
    || { record FAIL distill "the earlier (10 passages) run failed: $(tail -3 "$log")"; return; }
  local reft=$(( $(now_ms) - d0 )) before prefilled
  before="$(wc -l < "$work/teacher.log")"; prefilled="$(wc -l < "$out/teacher-cache.jsonl")"
  local chunks; chunks="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["unique_chunks"])' "$ref/summary.json")"
  # Kills land after the run's first answer arrives (so that every run makes some progress), within twice the
  # teacher's share of the run spread over the kills: most of the answers are asked in runs that get killed.
  local teacher_ms=$(( chunks * 80 / 2 ))
  t0=$SECONDS
  while [ "$k" -lt "$kills" ]; do
    kill_once distill "$log" "$out" 'change:teacher-cache' +0 $(( teacher_ms * 2 / (kills + 1) )) 300 -- "$bin/ecom-distill" "${args[@]}" --out "$out"
    rc=0; after_kill distill "a run" "$log" || rc=$?
    [ $rc -eq 1 ] && break
    [ $rc -eq 2 ] && return
    verify_dir "$out" || bad=$((bad + 1))
    local cached=0; [ -f "$out/teacher-cache.jsonl" ] && cached="$(wc -l < "$out/teacher-cache.jsonl")"
    say "distill: kill $k/$kills $moment: $outcome; $cached of $chunks answers cached; $verdict"
  done
  finish "$log" "$bin/ecom-distill" "${args[@]}" --out "$out" > /dev/null \
    || { record FAIL distill "the final run failed: $(tail -3 "$log")"; return; }
  # Each kill can lose the answers in flight (--concurrency 2); nothing else may be asked twice.
  local asked=$(( $(wc -l < "$work/teacher.log") - before )) limit=$(( chunks - prefilled + (k + 1) * 2 ))
  if [ "$bad" -gt 0 ]; then
    record FAIL distill "after $bad of $k kills the manifest described shards that are not in the directory"
  elif [ "$asked" -gt "$limit" ]; then
    record FAIL distill "$k kills: $asked requests for $(( chunks - prefilled )) chunks not cached (more than the $limit that kills can explain: answers asked twice)"
  elif python3 "$here/compare.py" distill "$ref" "$out" >&2; then
    record PASS distill "$k kills, $asked requests for the $(( chunks - prefilled )) of $chunks chunks not cached before: equal to the uninterrupted run (soak $(( SECONDS - t0 ))s)"
  else
    record FAIL distill "$k kills: differs from the uninterrupted run (log: $log)"
  fi
  kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; server_pid=""
}

# ---------------------------------------------------------------------------------------------------------------
# diskfull
# clear_error LINE DIR: the error line says the disk is full and names a file in DIR, in one readable line (not
# Foundation's nested error dump, not a temporary file's name); adds to $problems otherwise.
clear_error() {
  echo "$1" | grep -qi 'no space left on device' || problems+=("the error does not say the disk is full: '$1'")
  echo "$1" | grep -Eq "$2(/| \().*(trainer_state\.bin|model\.safetensors|metrics\.jsonl|config\.json|tokenizer\.json|loss\.svg)" \
    || problems+=("the error does not name the file: '$1'")
  echo "$1" | grep -Eq 'Domain=|UserInfo|\.tmp-' && problems+=("the error is not one clear line: '$1'")
  return 0
}

soak_diskfull() {
  local t0=$SECONDS
  train_data || { record FAIL diskfull "preparing the data failed: $(tail -3 "$work/train-data.log")"; return; }
  mnt="$work/tmpfs"; mkdir -p "$mnt"
  # A checkpoint of the tiny preset is about 47 MB (weights 16, moments 31); 64 MB holds one, not a second beside it.
  if ! mount -t tmpfs -o size=64m tmpfs "$mnt" 2> "$work/mount.err"; then
    mnt=""
    if [ "${CI:-}" = true ]; then record FAIL diskfull "cannot mount a tmpfs: $(cat "$work/mount.err")"; else
      record PASS diskfull "SKIPPED: cannot mount a tmpfs here ($(head -1 "$work/mount.err")); run as root to test it"; fi
    return
  fi
  local args=(--data "$work/train-packed" --tokenizer "$tok" --preset tiny --steps 3 --batch 1 --lr 1e-3 --save-every 1 --threads 1 --seed 7)
  local ref="$work/diskfull-ref" out="$mnt/run" log="$work/diskfull.log" rc problems=()
  say "diskfull: uninterrupted run (3 steps) on the ordinary disk"
  finish "$work/diskfull-ref.log" "$bin/ecom-train" "${args[@]}" --out "$ref" \
    || { record FAIL diskfull "the uninterrupted run failed: $(tail -3 "$work/diskfull-ref.log")"; return; }
  # 1. The second checkpoint does not fit.
  say "diskfull: training on a 64 MB tmpfs"
  timeout 600 "$bin/ecom-train" "${args[@]}" --out "$out" > "$log" 2>&1; rc=$?
  local err first_rc=$rc; err="$(grep -i 'error' "$log" | tail -1)"
  say "diskfull: exit $rc: ${err:-no error line}"
  [ "$rc" -ne 0 ] || problems+=("exit 0 although the disk was full")
  [ "$rc" -lt 128 ] || problems+=("crashed (exit $rc)")
  clear_error "$err" "$out"
  local state; state="$(python3 "$here/compare.py" state "$out" 2>&1)" || problems+=("no readable checkpoint left: $state")
  [ "$state" = "step 1 epoch 0 consumed 1" ] || problems+=("the checkpoint left is not step 1's: $state")
  [ -z "$(ls -A "$out" | grep '^\.')" ] || problems+=("the failed write left $(ls -A "$out" | grep '^\.' | tr '\n' ' ')taking space")
  say "diskfull: checkpoint left: $state; $(df -k "$mnt" | awk 'NR==2 { print $3 " KiB used of " $2 }'); entries: $(ls -A "$out" | tr '\n' ' ')"
  # 2. Full to the last byte: resuming must fail cleanly, the checkpoint untouched.
  dd if=/dev/zero of="$mnt/filler" bs=1M 2>/dev/null; dd if=/dev/zero of="$mnt/filler2" bs=4k 2>/dev/null
  local before; before="$(cd "$out" && cksum trainer_state.bin model.safetensors)"
  timeout 600 "$bin/ecom-train" "${args[@]}" --resume --out "$out" > "$log.full" 2>&1; rc=$?
  err="$(grep -i 'error' "$log.full" | tail -1)"
  say "diskfull: resuming on a full disk: exit $rc: ${err:-no error line}"
  [ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] || problems+=("resume on a full disk: exit $rc: $(tail -2 "$log.full")")
  clear_error "$err" "$out"
  [ "$(cd "$out" && cksum trainer_state.bin model.safetensors)" = "$before" ] || problems+=("the full-disk resume changed the checkpoint")
  # 3. Space again: the checkpoint left resumes to the uninterrupted result.
  rm -f "$mnt/filler" "$mnt/filler2"
  mount -o remount,size=256m "$mnt" 2>> "$work/mount.err" || problems+=("cannot enlarge the tmpfs: $(tail -1 "$work/mount.err")")
  if finish "$log.resume" "$bin/ecom-train" "${args[@]}" --resume --out "$out"; then
    python3 "$here/compare.py" train "$ref" "$out" >&2 || problems+=("the resumed run differs from the uninterrupted one")
  else
    problems+=("resuming with space again failed: $(tail -2 "$log.resume")")
  fi
  umount "$mnt" 2>/dev/null; mnt=""
  if [ "${#problems[@]}" -eq 0 ]; then
    record PASS diskfull "clear error naming the file, exit $first_rc, previous checkpoint intact and resumed to the uninterrupted result ($(( SECONDS - t0 ))s)"
  else
    local p; for p in "${problems[@]}"; do say "diskfull: problem: $p"; done
    record FAIL diskfull "${problems[0]} (and $(( ${#problems[@]} - 1 )) more; logs $log*)"
  fi
}

start=$SECONDS
case "$part" in
  all) soak_train; soak_eval; soak_data; soak_distill; soak_diskfull ;;
  *) "soak_$part" ;;
esac
echo "soak: summary (seed $seed, $kills kills per part, $(( SECONDS - start ))s):" >&2
for r in "${results[@]}"; do echo "  $r" >&2; done
[ "$failed" = 0 ] || { echo "soak: FAILED (replay: scripts/soak.sh $part --kills $kills --seed $seed)" >&2; exit 1; }
echo "soak: all passed" >&2
