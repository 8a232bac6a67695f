# Set-up for a fresh machine with python3 and pip: every target installs what it needs into .venv/.
VENV      ?= .venv
PYTHON    ?= python3
DATASETS  ?= ../shared/datasets
SEED      ?= $(DATASETS)/seed/000_0854de60a5b65581.txt
ARTICLES  ?= $(SEED) $(DATASETS)/realtimeqa-articles/gold-articles.jsonl.gz
PIP       := $(VENV)/bin/pip install --quiet --disable-pip-version-check -c constraints.txt
# llama-cpp-python builds from source; the native build crashes on these CPUs (AMX), so no -march=native.
# Where the CPU has AVX512 with VNNI, the build uses them (AMX stays off): the 1.5B reads prompts about 1.5x
# faster on 2 cores (docs/benchmarks: 69 -> 104 tokens/s). Elsewhere the portable AVX2 build.
AVX512    := $(shell grep -qw avx512_vnni /proc/cpuinfo 2>/dev/null && grep -qw avx512bw /proc/cpuinfo && echo yes)
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF $(if $(AVX512),-DGGML_AVX512=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_BF16=ON -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF)

# The answerer `make run` uses: local (a packaged Qwen model served by llama.cpp on 127.0.0.1), or
# none (extractive answers only). MODEL picks the local model. The defaults are the measured rule
# of docs/guides/local-models.md.
LLM       ?= local
MODEL     ?= qwen2.5-coder-1.5b

CHROMA_PATH ?= .newsdesk/chroma-server
CHROMA_PORT ?= 8000

.PHONY: install install-test install-local run serve cluster test test-fast bench chroma-server run-server clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	touch $@

install-test: $(VENV)/.installed-test

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) -e ".[test]"
	touch $@

install-local: $(VENV)/.installed-local

$(VENV)/.installed-local: $(VENV)/.installed
	$(PIP) -e ".[local]"
	touch $@

run: install $(if $(filter local,$(LLM)),install-local)
	@for path in $(ARTICLES); do \
	  if [ ! -e "$$path" ]; then \
	    echo "newsdesk: demo articles not found at $$path."; \
	    echo "Point newsdesk at your own articles: make run ARTICLES=path/to/articles"; \
	    exit 1; \
	  fi; \
	done
	$(VENV)/bin/newsdesk index $(ARTICLES)
	$(VENV)/bin/newsdesk status
	@if [ "$(LLM)" = local ]; then $(VENV)/bin/newsdesk models install $(MODEL); fi
	NEWSDESK_LLM=$(LLM) NEWSDESK_LOCAL_MODEL=$(MODEL) $(VENV)/bin/streamlit run app.py --server.headless true --browser.gatherUsageStats false --server.address 127.0.0.1

# The HTTP API (OpenAI-compatible chat, articles, MCP at /mcp) on 127.0.0.1:8700; see docs/guides/api-and-mcp.md.
serve: install
	$(VENV)/bin/newsdesk serve

# PostgreSQL, Chroma, one writer (newsdesk watch) and two readers (newsdesk serve) on 127.0.0.1, until Ctrl-C;
# see docs/guides/cluster.md. CLUSTER_ARGS: e.g. --folder DIR, --feed URL, --data DIR, --key.
cluster: install
	$(VENV)/bin/python scripts/cluster.py --seed $(SEED) $(CLUSTER_ARGS)

# The whole suite: real model servers, the browser, the RealTime QA corpus, crash trials.
test: install-test
	$(VENV)/bin/python -m pytest -q -ra

# The edit-test loop: the unit tests without the slow ones (crash trials, real servers), model servers or the
# real local model, the browser, and the index of the whole RealTime QA corpus (its build alone takes about two
# minutes on 2 cores); the markers are registered in pyproject.toml. About 385 tests in under 2 minutes on 2 busy cores.
test-fast: install-test
	$(VENV)/bin/python -m pytest -q -ra -m "not slow and not server and not corpus"

bench: install
	$(VENV)/bin/newsdesk bench index

# A Chroma server from the chromadb wheel; point newsdesk at it with NEWSDESK_CHROMA_HOST/PORT.
chroma-server: install
	$(VENV)/bin/chroma run --path $(CHROMA_PATH) --host 127.0.0.1 --port $(CHROMA_PORT)

# make run against a Chroma server started with `make chroma-server` (in another terminal)
run-server: install
	NEWSDESK_CHROMA_HOST=127.0.0.1 NEWSDESK_CHROMA_PORT=$(CHROMA_PORT) $(MAKE) run

clean:
	rm -rf $(VENV) .newsdesk
