#!/bin/sh
# Cross-compiles the kernel test for aarch64 and runs it under qemu-user, twice:
# with the dot-product extension (vdotq_s32) and for plain armv8-a (the
# widening-multiply fallback). Needs gcc-aarch64-linux-gnu, libc6-dev-arm64-cross
# and qemu-user. Prints each run's summary, then the total; exits non-zero if
# anything fails.
set -u
cd "$(dirname "$0")/.." || exit 1
out=build/aarch64
mkdir -p "$out"
flags="-O2 -static -std=c11 -ffp-contract=off -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Wno-unused-parameter -Isrc"
# only what the kernel test needs
src="src/mathx.c src/kernels/scalar.c src/kernels/select.c src/kernels/arm_neon.c src/kernels/blocks.c weights-tools/quant.c tests/test_kernels.c"
pass=0 fail=0
for arch in armv8.2-a+dotprod armv8-a; do
    bin="$out/test_kernels-$(echo "$arch" | tr '+.' '__')"
    log="$bin.log"
    echo "neon ($arch):"
    # shellcheck disable=SC2086  # $flags and $src are lists of words
    if aarch64-linux-gnu-gcc $flags -march="$arch" -o "$bin" $src -lm &&
        qemu-aarch64 -L /usr/aarch64-linux-gnu "$bin" > "$log" 2>&1; then :; fi
    [ -f "$log" ] && cat "$log"
    last=$( [ -f "$log" ] && grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
    if [ -z "$last" ]; then
        echo "neon ($arch): did not build, or crashed"
        echo "0 passed, 1 failed"
        fail=$((fail + 1))
    else
        pass=$((pass + ${last%% passed*}))
        f=${last#*, }
        fail=$((fail + ${f%% failed}))
    fi
    rm -f "$log"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
