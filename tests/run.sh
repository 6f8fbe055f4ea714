#!/bin/sh
# Runs every C test: all under ASan+UBSan, the golden tests also optimized,
# the kernel test also for NEON (qemu-aarch64) and wasm SIMD128 (node).
# Each test prints "N passed, N failed"; this sums them into one final line.
build=$1; shift
total_pass=0; total_fail=0; failed_progs=""
run() {
    name=$1; prog=$2
    out=$(ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $prog 2>&1); rc=$?
    last=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
    if [ -z "$last" ]; then
        printf '%s\n' "$out" | tail -n 20
        echo "$name: crashed or printed no summary (exit $rc)"
        total_fail=$((total_fail + 1)); failed_progs="$failed_progs $name"; return
    fi
    p=${last%% passed*}; f=${last#*, }; f=${f%% failed}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    [ "$f" -ne 0 ] && { printf '%s\n' "$out" | grep -E 'FAIL|ERROR|error' | head -n 30; failed_progs="$failed_progs $name"; }
    skip=$(printf '%s\n' "$out" | grep -m1 '^skipped:')
    printf '%-28s %s%s\n' "$name" "$last" "${skip:+ ($skip)}"
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
}
for t in "$@"; do
    case $t in
    replay_*) run "$t [asan]" "$build/asan/$t tests/fuzz/corpus/${t#replay_}" ;;
    neon) run "test_kernels [neon, qemu]" "sh tests/neon.sh" ;;
    wasm_kernels) run "test_kernels [wasm, node]" "sh tests/wasm.sh" ;;
    *golden*) run "$t [asan]" "$build/asan/tests/$t"; run "$t [opt]" "$build/opt/tests/$t" ;;
    *) run "$t [asan]" "$build/asan/tests/$t" ;;
    esac
done
[ -n "$failed_progs" ] && echo "failing:$failed_progs"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
