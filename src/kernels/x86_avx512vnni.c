// AVX512-VNNI kernels for CPUs that have the EVEX vpdpbusd but not the VEX
// one (AMD Zen 4): x86_avx2.c built again, the quantized products' integer
// sums done by vpdpbusd on ymm registers (AVX512-VL), as x86_avxvnni.c does;
// no zmm. Same bits as scalar.c. Built with -mavx512vnni -mavx512vl and called
// only after CPU detection (select.c).
#if defined(__x86_64__) || defined(__i386__)
#define SLM_X86_VNNI 1
#define SLM_X86_VNNI_EVEX 1
#include "x86_avx2.c"
#endif
