# `make nano-models`: the four slm360-nano benchmark classifiers (SNIPS, ATIS,
# Banking77, CLINC150), trained here in C from ../shared/data/intent, F32 and
# Q4_0 (token embedding Q2_K), into build/models/. Each dataset gets its own
# 8,192-token tokenizer (`slm train-tokenizer` on its training texts, twice,
# plus WikiText-2's test file so that the small sets fill the vocabulary).
# Training runs one thread per model, so make's -j2 trains two at once; same
# seed, same bits.
NANO_DATA  := ../shared/data/intent
NANO_TEXT  := ../shared/data/text/wikitext-2-raw/wiki.test.raw
NANO_SETS  := snips atis banking77 clinc150
NANO_FLAGS := --preset slm360-nano --threads 1 --seed 1
# per dataset, chosen on dev (docs/BENCHMARKS.md)
NANO_FLAGS_snips     := --epochs 10
NANO_FLAGS_atis      := --epochs 20
NANO_FLAGS_banking77 := --epochs 15
NANO_FLAGS_clinc150  := --epochs 12 --oos-dev $(NANO_DATA)/clinc150/oos_dev.tsv

.PHONY: nano-models
nano-models: $(foreach s,$(NANO_SETS),$(BUILD)/models/nano-$(s).gguf $(BUILD)/models/nano-$(s)-q4_0.gguf)

$(BUILD)/models/nano-%-tok.gguf: | $(BUILD)/slm
	@mkdir -p $(dir $@)
	$(BUILD)/slm train-tokenizer --vocab 8192 -o $@ $(NANO_DATA)/$*/train.tsv $(NANO_DATA)/$*/train.tsv $(NANO_TEXT)

$(BUILD)/models/nano-%.gguf: $(BUILD)/models/nano-%-tok.gguf | $(BUILD)/slm
	nice -n 19 $(BUILD)/slm train-classifier --train $(NANO_DATA)/$*/train.tsv --dev $(NANO_DATA)/$*/dev.tsv \
	  --vocab $< -o $@ $(NANO_FLAGS) $(NANO_FLAGS_$*)

# Q4_0, with the token embedding (only looked up) in Q2_K: 0.49 MB less, the
# same dev accuracy (docs/BENCHMARKS.md), and the file within 4.5 MB
$(BUILD)/models/nano-%-q4_0.gguf: $(BUILD)/models/nano-%.gguf
	$(BUILD)/slm quantize $< -o $@ --type q4_0 --embd-type q2_k

.SECONDARY: $(foreach s,$(NANO_SETS),$(BUILD)/models/nano-$(s)-tok.gguf)
