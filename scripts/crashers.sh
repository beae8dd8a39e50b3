#!/usr/bin/env bash
# Feeds every file in Tests/Fixtures/crashers/ to an `rwkv` binary and classifies the outcome:
#   error    exit 1, a clean message (what we want)
#   ACCEPTED exit 0 (the input was taken as valid)
#   CRASH    killed by a signal (trap, abort, SIGSEGV...)
# Usage: scripts/crashers.sh [RWKV_BINARY]   (default .build/debug/rwkv). Exits 1 if anything is not "error".
set -uo pipefail
cd "$(dirname "$0")/.."
rwkv=${1:-.build/debug/rwkv}
dir=Tests/Fixtures/crashers
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A valid byte-vocabulary model for the state files.
model=models/rwkv7-shakespeare-L6-D256.pth
bad=0
for f in "$dir"/*; do
    name=$(basename "$f")
    case "$name" in
        *.md) continue ;;
        *.rwkvstate) cmd=("$rwkv" generate -m "$model" --state "$f" -n 1 a) ;;
        *.resume.bin) mkdir -p "$work/$name"; cp "$f" "$work/$name/resume.bin"; echo hello > "$work/data.txt"
                      cmd=("$rwkv" train --data "$work/data.txt" --out "$work/$name" --resume --threads 1) ;;
        *vocab0*) cmd=("$rwkv" bench -m "$f" -p 2 -n 1 --repetitions 1 --threads 1) ;;   # bench draws from 0..<V
        *) cmd=("$rwkv" logits -m "$f" --tokens 0 --threads 1) ;;
    esac
    out=$(/usr/bin/time -f 'peak RSS %M KB' "${cmd[@]}" 2>&1 >/dev/null); status=$?
    rss=$(echo "$out" | grep -o 'peak RSS [0-9]* KB' | tail -1); out=$(echo "$out" | grep -v 'peak RSS')
    if [ $status -eq 1 ]; then verdict=error
    elif [ $status -eq 0 ]; then verdict=ACCEPTED; bad=1
    elif [ $status -gt 128 ]; then verdict="CRASH(signal $((status - 128)))"; bad=1
    else verdict="exit $status"; bad=1
    fi
    msg=$(echo "$out" | grep -v '^\s*$' | grep -v -i 'backtrace\|^[0-9]* *0x\|^ *at /' | grep -m1 -i 'error\|fatal\|crash\|overflow' | cut -c1-140)
    printf '%-38s %-17s %-20s %s\n' "$name" "$verdict" "$rss" "$msg"
done
exit $bad
