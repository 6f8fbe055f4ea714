# The web demo (included by the top Makefile).
#
#   make demo        installs what is missing, builds, serves build/web-demo on http://127.0.0.1:8080
#   make demo-site   builds and stages build/web-demo (web-demo/stage.mjs) without serving it
#   make test-demo   the browser end-to-end test (headless Chromium, tests/e2e/)
#
# The page is static (web-demo/); web-demo/serve.mjs only adds the COOP/COEP
# headers that let it use threads. Its decoder, stories260K, comes from
# ../shared/data/models, else from a public copy (weights-tools/fetch-stories.mjs).
DEMO_DIR  := $(BUILD)/web-demo
DEMO_PORT ?= 8080

.PHONY: demo demo-site demo-decoder test-demo
demo: deps demo-site
	node web-demo/serve.mjs $(DEMO_DIR) --port $(DEMO_PORT)

demo-site: wasm assistant-model demo-decoder
	node web-demo/stage.mjs --out $(DEMO_DIR)

ifneq (,$(wildcard $(SHARED_MODELS)/stories260K.bin))
demo-decoder: $(BUILD)/models/stories260K.gguf $(BUILD)/models/stories260K-q4_0.gguf
else
demo-decoder: | $(BUILD)/slm
	node weights-tools/fetch-stories.mjs $(BUILD)/slm $(BUILD)/models
endif

test-demo: demo-site node_modules/playwright-core/package.json
	node --test --test-reporter=spec tests/e2e/

# playwright-core (the browser test's driver; Chromium itself is Debian's)
node_modules/playwright-core/package.json: package-lock.json
	npm ci --no-audit --no-fund

EXTRA_TESTS += test-demo
