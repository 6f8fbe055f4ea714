# The pattern-only WebAssembly build (tier 1 of the assistant, for tiny
# devices): src/patterns.c alone, no model code, no printf, no JS glue.
#
#   make minimal        dist/slm360-minimal.wasm (limit 50 KB; it is ~16 KB, ~8 KB gzipped)
#   make test-minimal   builds it, checks its size and runs it in Node (tests/minimal_wasm.mjs)
#
# A standalone module: instantiate it with one import,
# env.emscripten_notify_memory_growth (a no-op is fine), call _initialize,
# then the exported slm_* pattern functions of src/slm.h with malloc'd memory.
EMCC ?= emcc
MINIMAL_EXPORTS := _slm_normalize,_slm_patterns_parse,_slm_patterns_free,_slm_patterns_match,\
_slm_patterns_intent_count,_slm_patterns_intent_name,_slm_patterns_reply,_slm_cache_new,_slm_cache_free,\
_slm_cache_count,_slm_cache_add,_slm_cache_lookup,_slm_cache_remove,_slm_cache_write,_slm_cache_parse,_malloc,_free
MINIMAL_LDFLAGS := -Oz --no-entry -sSTANDALONE_WASM -sMALLOC=emmalloc -sALLOW_MEMORY_GROWTH \
  -sINITIAL_MEMORY=256KB -sTOTAL_STACK=64KB -sEXPORTED_FUNCTIONS=$(subst $() ,,$(MINIMAL_EXPORTS))

.PHONY: minimal test-minimal
minimal: dist/slm360-minimal.wasm

dist/slm360-minimal.wasm: src/patterns.c src/slm.h wasm/minimal.mk
	@mkdir -p dist
	$(EMCC_ENV) $(EMCC) $(BASE) -Isrc $(MINIMAL_LDFLAGS) src/patterns.c -o $@
	@echo "$@: $$(wc -c < $@) bytes, $$(gzip -9 -c $@ | wc -c) gzipped"

test-minimal: dist/slm360-minimal.wasm
	node tests/minimal_wasm.mjs $<

EXTRA_TESTS += test-minimal
