// What the files of the JS package's C side share: the last error and JSON text.
#ifndef SLM_WASM_API_H
#define SLM_WASM_API_H

#include <emscripten.h>
#include <stddef.h>

#include "slm.h"

#define API EMSCRIPTEN_KEEPALIVE

// The last failure, for api_error_name / api_error_message.
extern slm_error api_last_error;
// Sets the last error; returns -1.
int api_fail(slm_status code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// s as the body of a JSON string (see api.c).
size_t json_quote(char *out, size_t cap, const char *s);

#endif
