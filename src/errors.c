// Status names, error messages, type names, the clock.
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "model.h"

const char *slm_status_name(slm_status s) {
    switch (s) {
    case SLM_OK: return "OK";
    case SLM_ERR_INVALID_ARG: return "INVALID_ARG";
    case SLM_ERR_IO: return "IO";
    case SLM_ERR_BAD_MODEL: return "BAD_MODEL";
    case SLM_ERR_UNSUPPORTED: return "UNSUPPORTED";
    case SLM_ERR_OUT_OF_MEMORY: return "OUT_OF_MEMORY";
    case SLM_ERR_CONTEXT_FULL: return "CONTEXT_FULL";
    case SLM_ERR_ABORTED: return "ABORTED";
    case SLM_ERR_BAD_DATA: return "BAD_DATA";
    case SLM_ERR_NUMERIC: return "NUMERIC";
    }
    return "UNKNOWN";
}

slm_status slm_fail(slm_error *err, slm_status code, const char *fmt, ...) {
    if (err) {
        err->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        // names in messages come from files: keep the message one printable line
        for (char *c = err->message; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
    }
    return code;
}

static const slm_type all_types[] = {SLM_TYPE_F32,  SLM_TYPE_F16,  SLM_TYPE_BF16, SLM_TYPE_Q4_0,   SLM_TYPE_Q4_1,
                                     SLM_TYPE_Q5_0, SLM_TYPE_Q5_1, SLM_TYPE_Q8_0, SLM_TYPE_Q2_K,   SLM_TYPE_Q3_K,
                                     SLM_TYPE_Q4_K, SLM_TYPE_Q5_K, SLM_TYPE_Q6_K, SLM_TYPE_IQ4_NL, SLM_TYPE_IQ4_XS};

const char *slm_type_name(slm_type t) {
    for (size_t i = 0; i < sizeof all_types / sizeof all_types[0]; i++)
        if (all_types[i] == t) return ggml_type_name((uint32_t)t);
    return "?";
}

int slm_type_from_name(const char *name) {
    for (size_t i = 0; i < sizeof all_types / sizeof all_types[0]; i++) {
        const char *a = slm_type_name(all_types[i]), *b = name;
        while (*a && *b && toupper((unsigned char)*a) == toupper((unsigned char)*b)) a++, b++;
        if (!*a && !*b) return (int)all_types[i];
    }
    return -1;
}

double slm_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}
