#!/bin/sh
# Cross-compiles the kernel test for aarch64 and runs it under qemu-user, twice:
# with the dot-product extension (vdotq_s32) and for plain armv8-a (the
# widening-multiply fallback). Needs gcc-aarch64-linux-gnu, libc6-dev-arm64-cross
# and qemu-user. Exits non-zero if either run fails.
set -u
cd "$(dirname "$0")/.." || exit 1
out=build/aarch64
mkdir -p "$out"
cc=aarch64-linux-gnu-gcc
flags="-O2 -static -std=c11 -ffp-contract=off -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Wno-unused-parameter -Isrc"
src="src/mathx.c src/kernels/*.c tests/test_kernels.c"
status=0
for arch in armv8.2-a+dotprod armv8-a; do
    bin="$out/test_kernels-$(echo "$arch" | tr '+.' '__')"
    # shellcheck disable=SC2086
    if ! $cc $flags -march="$arch" -o "$bin" $src -lm; then
        echo "neon ($arch): build failed"
        echo "0 passed, 1 failed"
        status=1
        continue
    fi
    echo "neon ($arch):"
    qemu-aarch64 -L /usr/aarch64-linux-gnu "$bin" || status=1
done
exit $status
