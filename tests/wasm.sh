#!/bin/sh
# Builds the kernel test for WebAssembly SIMD128 with Debian's emcc and runs it
# in node. Prints the summary line; exits non-zero if the build or any check
# fails. SINGLE_FILE embeds the .wasm in the .js: emcc 3.1.6's loader would
# otherwise fetch() it, which Node 20 cannot do for a file path.
set -u
cd "$(dirname "$0")/.." || exit 1
out=build/wasm-test
mkdir -p "$out"
# emcc's output is CommonJS; the repository's package.json says "module"
echo '{"type": "commonjs"}' > "$out/package.json"
# emcc's JS optimizer needs Debian's node modules (../shared/design/TOOLCHAIN.md)
export NODE_PATH=/usr/share/nodejs
if ! emcc -O2 -msimd128 -std=c11 -ffp-contract=off -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Wno-unused-parameter \
    -Isrc -sALLOW_MEMORY_GROWTH -sEXIT_RUNTIME=1 -sSINGLE_FILE=1 \
    -o "$out/test_kernels.js" src/mathx.c src/kernels/scalar.c src/kernels/select.c src/kernels/wasm_simd128.c src/kernels/blocks.c weights-tools/quant.c \
    tests/test_kernels.c; then
    echo "wasm: build failed"
    echo "0 passed, 1 failed"
    exit 1
fi
echo "wasm (simd128, node $(node --version)):"
node "$out/test_kernels.js" > "$out/log" 2>&1
status=$?
# on a crash node quotes the offending source line: the whole minified file
cut -c1-300 "$out/log"
if ! grep -qE '^[0-9]+ passed, [0-9]+ failed$' "$out/log"; then
    echo "wasm: crashed"
    echo "0 passed, 1 failed"
    exit 1
fi
exit "$status"
