#!/usr/bin/env bash
# Runs every libFuzzer target of Fuzz/ for SECONDS each (default 10), seeded from the test fixtures.
# Usage: [FUZZ_SEED=N] scripts/fuzz.sh [SECONDS] [TARGET...]   (FUZZ_SEED makes a run repeatable)
# Findings (crash-*, leak-*, timeout-*, oom-*) are copied to Tests/Fixtures/crashers/fuzz-<target>-<name>
# and the script exits 1; a summary line per target gives runs, coverage and findings.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${1:-10}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(FuzzZip FuzzPickle FuzzSafetensors FuzzGGUF FuzzStateFile FuzzWorldTokenizer FuzzChatTemplate)
export PATH="/opt/swift/usr/bin:$PATH"

(cd Fuzz && swift build -c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -use-ld=lld) || exit 2
bin=$(cd Fuzz && swift build -c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -use-ld=lld --show-bin-path)

work=${FUZZ_WORK:-/tmp/rwkv-fuzz}
mkdir -p "$work"
fixtures=Tests/Fixtures

seed() {   # seed TARGET DIR: copy the fixture files that suit TARGET into DIR
    local dir=$2
    mkdir -p "$dir"
    case $1 in
        FuzzZip) cp $fixtures/checkpoint/*.pth $fixtures/v5/*.pth "$dir"/ ;;
        FuzzPickle) for f in $fixtures/checkpoint/*.pth $fixtures/v5/*.pth $fixtures/v6/*.pth; do
                        unzip -p "$f" '*/data.pkl' > "$dir/$(basename "$f").pkl" 2>/dev/null || true
                    done ;;
        FuzzSafetensors) find $fixtures -name '*.safetensors' -size -200k -exec cp {} "$dir"/ \; ;;
        FuzzGGUF) cp $fixtures/gguf/*.gguf "$dir"/; cp $fixtures/crashers/*.gguf "$dir"/ ;;
        FuzzStateFile) cp $fixtures/crashers/*.rwkvstate "$dir"/
                       printf '{"signature":"v7 L2 C16 H2 N8","layers":[]}' > "$dir/state.json" ;;
        FuzzChatTemplate) printf '\001hi\r\n\r\nthere\000\002  reply \n\n\n' > "$dir/turns.bin" ;;
        FuzzWorldTokenizer) head -c 4000 $fixtures/tokenizer/vectors.json > "$dir/vectors.txt"
                            printf 'Hello, world! \xe4\xbd\xa0\xe5\xa5\xbd \xff\xfe\x80' > "$dir/mixed.bin" ;;
    esac
    cp "$root"/$fixtures/crashers/fuzz-"$1"-* "$dir"/ 2>/dev/null || true
}

status=0
for t in "${targets[@]}"; do
    corpus=$work/corpus/$t artifacts=$work/artifacts/$t/
    mkdir -p "$artifacts"
    [ -d "$corpus" ] || seed "$t" "$corpus"
    log=$work/$t.log
    "$bin/$t" "$corpus" ${FUZZ_SEED:+-seed=$FUZZ_SEED} -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
        -artifact_prefix="$artifacts" -print_final_stats=1 >"$log" 2>&1
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
    findings=$(ls "$artifacts" 2>/dev/null | wc -l)
    printf '%-20s %10s runs  cov %6s  findings %s\n' "$t" "${runs:-?}" "${cov:-?}" "$findings"
    for f in "$artifacts"*; do
        [ -e "$f" ] || continue
        cp "$f" "$fixtures/crashers/fuzz-$t-$(basename "$f")"
        status=1
    done
done
exit $status
