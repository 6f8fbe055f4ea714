# The assistant (included by the top Makefile): its nano classifier, trained
# here from data/assistant alone (no shared data; about 30 s on one core),
# tier 2's threshold chosen on dev, and tier 3's benchmark.
#
#   make assistant-model   build/models/assistant-nano-q4_0.gguf (+ .threshold)
#   make bench-docqa       build/docqa on ../shared/data/docqa (bench/docqa.c)
#
# The model is the slm360-nano preset with its n-gram branch trained and its
# transformer layers left at their seeded initialization (--no-transformer):
# on these 1,031 requests the trained transformer overfits (dev accuracy
# 79.6% against 83.6%, docs/BENCHMARKS.md). Same seed, same bits.
ASSIST_DIR   := data/assistant
ASSIST_NANO  := $(BUILD)/models/assistant-nano-q4_0.gguf
ASSIST_DOC   := web-demo/sample.txt
ASSIST_FLAGS := --preset slm360-nano --no-transformer --epochs 20 --threads 1 --seed 1

.PHONY: assistant-model bench-docqa
assistant-model: $(ASSIST_NANO) $(BUILD)/models/assistant-nano.threshold

$(BUILD)/models/assistant-tok.gguf: $(ASSIST_DIR)/train.tsv | $(BUILD)/slm
	@mkdir -p $(dir $@)
	$(BUILD)/slm train-tokenizer --vocab 4096 -o $@ $<

$(BUILD)/models/assistant-nano-f32.gguf: $(BUILD)/models/assistant-tok.gguf $(ASSIST_DIR)/train.tsv $(ASSIST_DIR)/dev.tsv | $(BUILD)/slm
	nice -n 19 $(BUILD)/slm train-classifier --train $(ASSIST_DIR)/train.tsv --dev $(ASSIST_DIR)/dev.tsv \
	  --vocab $< -o $@ $(ASSIST_FLAGS)

$(ASSIST_NANO): $(BUILD)/models/assistant-nano-f32.gguf
	$(BUILD)/slm quantize $< -o $@ --type q4_0

# the pipeline's best threshold on dev, with a document open
$(BUILD)/models/assistant-nano.threshold: $(ASSIST_NANO) $(ASSIST_DIR)/patterns.txt $(ASSIST_DIR)/dev.tsv
	$(BUILD)/slm assist --patterns $(ASSIST_DIR)/patterns.txt -m $< --doc $(ASSIST_DOC) --eval $(ASSIST_DIR)/dev.tsv --sweep \
	  | sed -n 's/^best threshold \([0-9.]*\):.*/\1/p' > $@.tmp
	@test -s $@.tmp && mv $@.tmp $@

$(BUILD)/docqa: bench/docqa.c $(BUILD)/libslm.a
	$(Q)$(CC) $(BASE) $(CFLAGS) -Isrc -o $@ $< $(BUILD)/libslm.a $(LDLIBS)

bench-docqa: $(BUILD)/docqa $(ASSIST_NANO)
	nice $(BUILD)/docqa --nano $(ASSIST_NANO)

.SECONDARY: $(BUILD)/models/assistant-tok.gguf $(BUILD)/models/assistant-nano-f32.gguf
