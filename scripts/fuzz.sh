#!/usr/bin/env bash
# Fuzzes Muster's untrusted-input parsers with cargo-fuzz (libFuzzer), one target at a time.
#
#   scripts/fuzz.sh [MINUTES] [TARGET...]   MINUTES per target (default 5); every target by
#                                           default: packet txt etcd_value api_body dnssd_txt
#
# Installs what it needs, skipping what is there: rustup's nightly toolchain (libFuzzer's
# coverage instrumentation needs it; the project builds on stable) and cargo-fuzz. Each target
# runs single-process (-jobs=1: the machine is shared) on a scratch copy of its corpus; at the
# end only the new inputs that reach new code are merged into registry/fuzz/corpus/TARGET, which
# the tests replay (registry/fuzz/Cargo.toml says where). A crash stops the run and leaves the
# input in registry/fuzz/artifacts/TARGET: fix it, and copy the input into the corpus.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

minutes="${1:-5}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(packet txt etcd_value api_body dnssd_txt)
[[ "$minutes" =~ ^[0-9]+$ ]] || die "MINUTES must be a whole number, not '$minutes'"

command -v rustup >/dev/null || die "rustup not found: cargo-fuzz needs a nightly toolchain"
if ! rustup toolchain list | grep -q '^nightly'; then
    say "installing the nightly toolchain (rustup, minimal profile)"
    rustup toolchain install nightly --profile minimal
fi
if ! command -v cargo-fuzz >/dev/null; then
    say "installing cargo-fuzz"
    cargo install cargo-fuzz
fi
# The etcd client's build compiles etcd's protobufs.
command -v protoc >/dev/null || apt_install protobuf-compiler

cd "$MUSTER_ROOT/registry"
mkdir -p fuzz/target
# The fuzz workspace has its own lock file; start it from the project's, so that the code
# fuzzed is built against the same dependency versions as the project.
[ -f fuzz/Cargo.lock ] || cp "$MUSTER_ROOT/Cargo.lock" fuzz/Cargo.lock
# No sanitizer: what is fuzzed is safe Rust, where AddressSanitizer finds nothing a panic
# would not, at half the speed. Debug assertions and overflow checks stay on (cargo-fuzz's
# default), so an arithmetic overflow is a finding too.
fuzz() { cargo +nightly fuzz "$1" --fuzz-dir fuzz --sanitizer none "${@:2}"; }

for target in "${targets[@]}"; do
    [ -f "fuzz/fuzz_targets/$target.rs" ] || die "no fuzz target '$target' (see registry/fuzz/fuzz_targets)"
    corpus="$MUSTER_ROOT/registry/fuzz/corpus/$target"
    mkdir -p "$corpus"
    scratch="$(mktemp -d)"
    cp -a "$corpus/." "$scratch/"
    say "fuzzing $target for $minutes min (corpus: $(ls "$corpus" | wc -l) inputs)"
    # -max_len: the largest input any of these paths accepts in practice (a UDP datagram, a
    # 256 KiB API body is far past where parsing changes behaviour).
    log="fuzz/target/fuzz-$target.log"
    set +o pipefail
    fuzz run "$target" "$scratch" -- \
        -max_total_time=$((minutes * 60)) -max_len=65536 -print_final_stats=1 2>&1 \
        | tee "$log" | grep -E '(DONE|stat::number_of_executed_units|SUMMARY|panicked)'
    status="${PIPESTATUS[0]}"
    set -o pipefail
    before="$(ls "$corpus" | wc -l)"
    # Set-cover merge on edge coverage alone (no hit counters): the fewest new inputs that
    # reach code the corpus did not, so the corpus kept in the repository stays small.
    fuzz run "$target" "$corpus" "$scratch" -- -set_cover_merge=1 -use_counters=0 >/dev/null 2>&1 \
        || die "merging $target's new inputs failed"
    rm -rf "$scratch"
    say "$target: $(( $(ls "$corpus" | wc -l) - before )) new corpus inputs kept (log: registry/fuzz/target/fuzz-$target.log)"
    [ "$status" -eq 0 ] || die "$target found a crash: see registry/fuzz/artifacts/$target"
done
