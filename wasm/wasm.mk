# WebAssembly builds and the JS package tests (included by the top Makefile).
#
#   make wasm      dist/slm360.{js,wasm}          SIMD128, one thread
#                  dist/slm360-threads.{js,wasm}  SIMD128 + pthreads (cross-origin isolated pages, Node)
#   make test-js   builds what the JS tests need, then runs them (node --test)
EMCC      ?= emcc
# emcc's JS optimizer needs Debian's acorn (the machine's node is not Debian's)
EMCC_ENV  := NODE_PATH=/usr/share/nodejs
# on-device learning needs the learner and the ops it trains with
WASM_SRC  := $(wildcard src/*.c src/models/*.c src/kernels/*.c wasm/*.c) weights-tools/learn.c weights-tools/learn_state.c \
  weights-tools/train_ops.c weights-tools/train_optim.c
WASM_CFLAGS := $(BASE) -O3 -msimd128 -Isrc
# Memory grows in 1 MB steps (not +20 %) so a model costs its size and little
# more; no filesystem, no exceptions, no eval (CSP-friendly), ES modules.
WASM_LDFLAGS := -O3 -msimd128 -sMODULARIZE -sEXPORT_ES6 -sENVIRONMENT=web,worker -sFILESYSTEM=0 \
  -sALLOW_MEMORY_GROWTH -sMEMORY_GROWTH_LINEAR_STEP=1MB -sINITIAL_MEMORY=4MB -sTOTAL_STACK=1MB \
  -sABORTING_MALLOC=0 -sDYNAMIC_EXECUTION=0 -sEXPORTED_FUNCTIONS=_malloc,_free
# The pool size comes from the worker at start-up: the threads it asked for, minus itself.
WASM_THREADS_LDFLAGS := -pthread -sPTHREAD_POOL_SIZE='Module["pthreadPoolSize"]' -sDEFAULT_PTHREAD_STACK_SIZE=512KB \
  -sMAXIMUM_MEMORY=2GB -Wno-pthreads-mem-growth

WASM_DIST := dist/slm360.js dist/slm360.wasm dist/slm360-threads.js dist/slm360-threads.wasm dist/slm360-threads.worker.js

.PHONY: wasm test-js
wasm: $(WASM_DIST)

$(BUILD)/wasm/simd/%.o: %.c
	@mkdir -p $(dir $@)
	$(EMCC_ENV) $(EMCC) $(WASM_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/wasm/threads/%.o: %.c
	@mkdir -p $(dir $@)
	$(EMCC_ENV) $(EMCC) $(WASM_CFLAGS) -pthread -MMD -MP -c $< -o $@

dist/slm360.js: $(call obj,wasm/simd,$(WASM_SRC))
	@mkdir -p dist
	$(EMCC_ENV) $(EMCC) $(WASM_LDFLAGS) -o $@ $^

dist/slm360-threads.js: $(call obj,wasm/threads,$(WASM_SRC))
	@mkdir -p dist
	$(EMCC_ENV) $(EMCC) $(WASM_LDFLAGS) $(WASM_THREADS_LDFLAGS) -o $@ $^

dist/slm360.wasm: dist/slm360.js
dist/slm360-threads.wasm dist/slm360-threads.worker.js: dist/slm360-threads.js

test-js: wasm $(BUILD)/slm assistant-model
	node --test --test-reporter=spec tests/js/

EXTRA_TESTS += test-js
