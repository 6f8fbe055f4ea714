# slm360: `make` builds build/slm and build/libslm.a; `make test` runs every test.
CC      ?= cc
BUILD   := build
ARCH    := $(shell $(CC) -dumpmachine)
WARN    := -Wall -Wextra -Wshadow -Wno-unused-parameter
# -ffp-contract=off: no fused multiply-add, so every backend rounds alike.
BASE    := -std=c11 -D_POSIX_C_SOURCE=200809L -ffp-contract=off -fno-strict-aliasing $(WARN)
CFLAGS  ?= -O2 -g
LDLIBS  := -lm -lpthread
MAKEFLAGS += --jobs=$(shell nproc 2>/dev/null || echo 2)

LIB_SRC := $(wildcard src/*.c src/models/*.c src/kernels/*.c weights-tools/*.c)
CLI_SRC := $(wildcard src/cli/*.c)
TESTS   := $(patsubst tests/%.c,%,$(wildcard tests/test_*.c))
FUZZERS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

# Per-architecture kernel flags: the x86 SIMD files are built for AVX2 (and
# AVX-VNNI, AVX512-VNNI) and only called after run-time CPU detection (src/kernels/select.c).
ifneq (,$(findstring x86_64,$(ARCH)))
AVX2_FLAGS := -mavx2 -mfma -mf16c
VNNI_FLAGS := $(AVX2_FLAGS) -mavxvnni
VNNI512_FLAGS := $(AVX2_FLAGS) -mavx512vnni -mavx512vl -mprefer-vector-width=256
endif
# the flags of the source file $<
KFLAGS = $(if $(findstring x86_avx2,$<),$(AVX2_FLAGS),$(if $(findstring x86_avxvnni,$<),$(VNNI_FLAGS),$(if \
  $(findstring x86_avx512vnni,$<),$(VNNI512_FLAGS))))

obj = $(patsubst %.c,$(BUILD)/$(1)/%.o,$(2))
# quiet by default: `make V=1` shows full commands
Q   := $(if $(V),,@)

.PHONY: all test test-c clean fuzz deps
all: $(BUILD)/slm $(BUILD)/libslm.a

# Debian packages the tests need (no-op when present)
deps:
	@sh .ci/install-deps

# ---- the default model: stories260K, from ../shared/data when it is there ----
SHARED_MODELS := ../shared/data/models
$(BUILD)/models/stories260K.gguf: | $(BUILD)/slm
	@mkdir -p $(dir $@)
	@if [ ! -f $(SHARED_MODELS)/stories260K.bin ]; then \
	  echo "stories260K not found in $(SHARED_MODELS): put llama2.c's stories260K.bin and tok512.bin there"; exit 2; fi
	$(BUILD)/slm import-llama2c $(SHARED_MODELS)/stories260K.bin --tokenizer $(SHARED_MODELS)/tok512.bin -o $@

$(BUILD)/models/stories260K-q4_0.gguf: $(BUILD)/models/stories260K.gguf
	$(BUILD)/slm quantize $< -o $@ --type q4_0

# ---- optimized build -------------------------------------------------------
$(BUILD)/opt/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "cc      $<"
	$(Q)$(CC) $(BASE) $(CFLAGS) $(KFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libslm.a: $(call obj,opt,$(LIB_SRC))
	@rm -f $@
	$(Q)ar rcs $@ $^

$(BUILD)/slm: $(call obj,opt,$(CLI_SRC)) $(BUILD)/libslm.a
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# ---- sanitized build for tests (ASan + UBSan) -------------------------------
# gcc's undefined leaves out float-cast-overflow (a NaN converted to an int): asked for by name
SAN := -O1 -g -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=undefined,float-cast-overflow \
       -fno-omit-frame-pointer

$(BUILD)/asan/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "cc asan $<"
	$(Q)$(CC) $(BASE) $(SAN) $(KFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/asan/libslm.a: $(call obj,asan,$(LIB_SRC))
	@rm -f $@
	$(Q)ar rcs $@ $^

$(BUILD)/asan/slm: $(call obj,asan,$(CLI_SRC)) $(BUILD)/asan/libslm.a
	$(Q)$(CC) $(SAN) -o $@ $^ $(LDLIBS)

$(BUILD)/asan/tests/%: tests/%.c tests/test.h $(BUILD)/asan/libslm.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASE) $(SAN) -Isrc -o $@ $< $(BUILD)/asan/libslm.a $(LDLIBS)

$(BUILD)/opt/tests/%: tests/%.c tests/test.h $(BUILD)/libslm.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASE) $(CFLAGS) -Isrc -o $@ $< $(BUILD)/libslm.a $(LDLIBS)

# fuzz corpora replayed as regression tests (ASan+UBSan, no libFuzzer needed)
$(BUILD)/asan/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(BUILD)/asan/libslm.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(BASE) $(SAN) -Isrc -o $@ $< tests/fuzz/replay.c $(BUILD)/asan/libslm.a $(LDLIBS)

test-c: all $(BUILD)/asan/slm $(addprefix $(BUILD)/asan/tests/,$(TESTS)) $(addprefix $(BUILD)/opt/tests/,$(TESTS)) \
        $(addprefix $(BUILD)/asan/replay_,$(FUZZERS))
	@sh tests/run.sh $(BUILD) $(TESTS) $(addprefix replay_,$(FUZZERS)) neon wasm_kernels

# ---- libFuzzer (clang): `make fuzz FUZZ_SECONDS=300` grows tests/fuzz/corpus ----
FUZZ_CC      := clang
FUZZ_FLAGS   := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_SECONDS ?= 60

$(BUILD)/fuzz/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(BASE) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link $(KFLAGS) -MMD -MP -c $< -o $@

.SECONDARY: $(call obj,fuzz,$(LIB_SRC))
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(call obj,fuzz,$(LIB_SRC))
	$(FUZZ_CC) $(BASE) $(FUZZ_FLAGS) -fsanitize=fuzzer -Isrc -o $@ $^ $(LDLIBS)

# `make fuzz` runs every target in turn, `make fuzz-NAME` one. New inputs land
# in $(BUILD)/fuzz/new-NAME; those that add coverage are then merged into
# tests/fuzz/corpus/NAME (greedy set cover over edges: the fewest files that
# reach all the code). Crashers go to tests/fuzz/crashers/; once fixed, move
# them into the corpus.
FUZZ_MAX_LEN      := 65536
FUZZ_MAX_LEN_gguf := 16384
FUZZ_MAX_LEN_numbers := 64

.PHONY: $(addprefix fuzz-,$(FUZZERS))
fuzz: $(addprefix fuzz-,$(FUZZERS))

$(addprefix fuzz-,$(FUZZERS)): fuzz-%: $(BUILD)/fuzz/fuzz_%
	@mkdir -p tests/fuzz/corpus/$* tests/fuzz/crashers $(BUILD)/fuzz/new-$*
	@echo "fuzzing $* for $(FUZZ_SECONDS) s"
	$< -max_total_time=$(FUZZ_SECONDS) -max_len=$(or $(FUZZ_MAX_LEN_$*),$(FUZZ_MAX_LEN)) -print_final_stats=1 \
	  -artifact_prefix=tests/fuzz/crashers/ $(BUILD)/fuzz/new-$* tests/fuzz/corpus/$*
	@echo "merging new inputs into tests/fuzz/corpus/$*"
	$< -set_cover_merge=1 -use_counters=0 -max_len=$(or $(FUZZ_MAX_LEN_$*),$(FUZZ_MAX_LEN)) tests/fuzz/corpus/$* $(BUILD)/fuzz/new-$*

# other parts of the project add their test targets to EXTRA_TESTS
-include wasm/wasm.mk
-include wasm/minimal.mk
-include weights-tools/nano.mk
-include weights-tools/assistant.mk
-include web-demo/demo.mk
test: test-c $(EXTRA_TESTS)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
