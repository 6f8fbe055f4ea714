// Picks a backend at run time. On x86 the AVX2 file is compiled with
// -mavx2 -mf16c (the AVX-VNNI one also with -mavxvnni, the AVX512-VNNI one with
// -mavx512vnni -mavx512vl), so we only call
// them after asking the CPU (and the OS, via XGETBV, that it saves the ymm
// registers).
#include <string.h>

#include "kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

// The register state the OS saves (XCR0's low half); only after CPUID says OSXSAVE.
static unsigned os_saved_state(void) {
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return lo;
}

static int cpu_has_avx2(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, f16c = (c >> 29) & 1, fma = (c >> 12) & 1;
    if (!osxsave || !avx || !f16c || !fma) return 0;
    if ((os_saved_state() & 6) != 6) return 0;  // xmm and ymm state enabled
    if (__get_cpuid_max(0, NULL) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return (b >> 5) & 1;
}

// AVX-VNNI: CPUID.(EAX=7, ECX=1):EAX bit 4 (the VEX-encoded vpdpbusd).
static int cpu_has_avxvnni(void) {
    if (!cpu_has_avx2()) return 0;
    unsigned a, b, c, d;
    __cpuid_count(7, 0, a, b, c, d);
    if (a < 1) return 0;  // highest subleaf of leaf 7
    __cpuid_count(7, 1, a, b, c, d);
    return (a >> 4) & 1;
}

// AVX512-VNNI on ymm: CPUID.(EAX=7, ECX=0):ECX bit 11 (AVX512_VNNI), EBX bits
// 16 (AVX512F) and 31 (AVX512VL), and the OS saving the opmask and upper
// zmm state (XCR0 bits 5 to 7), which EVEX code needs even on ymm.
static int cpu_has_avx512vnni(void) {
    if (!cpu_has_avx2()) return 0;
    unsigned a, b, c, d;
    __cpuid_count(7, 0, a, b, c, d);
    if (!((c >> 11) & 1) || !((b >> 16) & 1) || !((b >> 31) & 1)) return 0;
    return (os_saved_state() & 0xe6) == 0xe6;
}
#endif

const slm_kernels *slm_kernels_best(void) {
#if defined(__x86_64__) || defined(__i386__)
    if (cpu_has_avxvnni()) return &slm_kernels_avxvnni;
    if (cpu_has_avx512vnni()) return &slm_kernels_avx512vnni;
    if (cpu_has_avx2()) return &slm_kernels_avx2;
#elif defined(__aarch64__)
    return &slm_kernels_neon;
#elif defined(__wasm_simd128__)
    return &slm_kernels_wasm;
#endif
    return &slm_kernels_scalar;
}

const slm_kernels *slm_kernels_by_name(const char *name) {
    if (!name || !strcmp(name, "best")) return slm_kernels_best();
    if (!strcmp(name, "scalar")) return &slm_kernels_scalar;
#if defined(__x86_64__) || defined(__i386__)
    if (!strcmp(name, "avx2")) return cpu_has_avx2() ? &slm_kernels_avx2 : NULL;
    if (!strcmp(name, "avxvnni")) return cpu_has_avxvnni() ? &slm_kernels_avxvnni : NULL;
    if (!strcmp(name, "avx512vnni")) return cpu_has_avx512vnni() ? &slm_kernels_avx512vnni : NULL;
#endif
#if defined(__aarch64__)
    if (!strcmp(name, "neon")) return &slm_kernels_neon;
#endif
#if defined(__wasm_simd128__)
    if (!strcmp(name, "wasm")) return &slm_kernels_wasm;
#endif
    return NULL;
}
