// AVX-VNNI kernels: x86_avx2.c built again with vpdpbusd (256-bit, VEX) doing
// the quantized products' integer sums; every other kernel is AVX2's. Same
// bits as scalar.c. Built with -mavxvnni and called only after CPU detection
// (select.c).
#if defined(__x86_64__) || defined(__i386__)
#define SLM_X86_VNNI 1
#include "x86_avx2.c"
#endif
