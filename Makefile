# seqserve: the two commands of the README are `make demo` and `make test`.
PYTHON ?= python3
REPO ?= model_repository
RUNS ?= runs
HOST ?= 127.0.0.1
PORT ?= 50051
METRICS_PORT ?= 9090
TRAIN_MINUTES ?= 5

.PHONY: install system-deps model models demo serve test lint protos-check bench clean loadtest fuzz

# Everything the project needs, from its own files: the package with its
# training/export extra and the dev tools (torch==2.13.0 is the local CPU wheel),
# and the real components the tests start on 127.0.0.1 (system-deps).
install: system-deps
	$(PYTHON) -m pip install -q -e ".[train,dev]"

# Debian packages of the components the tests and deploy/ files run for real:
# Redis (session store across replicas), HAProxy (gRPC load balancer),
# Prometheus + promtool (scrape and alert-rule tests). Installed when missing
# and this is root with apt; otherwise the exact command is printed and the
# tests that need a missing binary skip, naming it.
SYSTEM_PACKAGES := redis-server haproxy prometheus nghttp2-client
SYSTEM_BINARIES := redis-server haproxy prometheus promtool h2load
system-deps:
	@missing=""; for b in $(SYSTEM_BINARIES); do command -v $$b >/dev/null 2>&1 || \
		[ -x /usr/sbin/$$b ] || missing="$$missing $$b"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing$$missing (Debian: $(SYSTEM_PACKAGES))"; \
		apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -q --no-install-recommends $(SYSTEM_PACKAGES) >/dev/null || \
			echo "apt-get could not install $(SYSTEM_PACKAGES): tests that need them are skipped"; \
	else \
		echo "missing$$missing: run 'sudo apt-get install -y $(SYSTEM_PACKAGES)';" \
			"tests that need them are skipped"; \
	fi

# Each demo model: train if its run has no DONE stamp, export if the repository
# has no version of it yet. Budgets keep the whole first run of `make demo`
# under 20 minutes on 2 cores (the translator gets the largest share).
TAGGER_MINUTES ?= 1.5
CAPTIONER_MINUTES ?= 2
CHARLM_MINUTES ?= 1
CO2_MINUTES ?= 0.5

define train_once
	@if [ ! -f $(RUNS)/$(1)/DONE ]; then \
		seqserve train $(2) --out $(RUNS)/$(1) && touch $(RUNS)/$(1)/DONE; \
	fi
	@if [ -z "$$(ls -d $(REPO)/$(1)/[0-9]* 2>/dev/null)" ]; then \
		seqserve export $(3) --run $(RUNS)/$(1) --model-repository $(REPO) --name $(1); \
	fi
endef

model: install
	$(call train_once,en-fr,--corpus libreoffice --max-minutes $(TRAIN_MINUTES),)

models: model
	$(call train_once,tagger,tagger --max-minutes $(TAGGER_MINUTES),tagger)
	$(call train_once,captioner,captioner --max-minutes $(CAPTIONER_MINUTES),captioner)
	$(call train_once,charlm,--corpus charlm --max-minutes $(CHARLM_MINUTES),)
	$(call train_once,co2,--corpus co2 --max-minutes $(CO2_MINUTES),)

demo: models
	REPO=$(REPO) HOST=$(HOST) PORT=$(PORT) METRICS_PORT=$(METRICS_PORT) bash deploy/demo.sh

serve: install
	seqserve serve --model-repository $(REPO) --host $(HOST) --port $(PORT) --metrics-port $(METRICS_PORT)

test: install
	$(PYTHON) -m pytest -q tests

lint:
	ruff check .

# The long fuzz run (>= 20,000 requests over every RPC of both APIs, fresh random
# examples each time) against the real server; prints the status histogram.
FUZZ_SCALE ?= 12
fuzz:
	SEQSERVE_FUZZ_SCALE=$(FUZZ_SCALE) $(PYTHON) -m pytest -q -s -p no:cacheprovider tests/fuzz

protos-check:
	$(PYTHON) -m seqserve.protos.generate --check

bench: models
	$(PYTHON) tests/benchmarks/bench_translate.py --model-repository $(REPO) --model en-fr
	$(PYTHON) tests/benchmarks/bench_tag_caption.py --model-repository $(REPO) --tagger tagger --captioner captioner --out bench_results
	$(PYTHON) tests/benchmarks/bench_sessions.py --model-repository $(REPO) --model charlm --out bench_results/bench_sessions

# Locust against a running server (`make serve` in another shell): report in
# loadtest-report/, exit 1 when a gate of deploy/loadtest/slo.yaml fails.
USERS ?= 8
DURATION ?= 30s
TARGET ?= $(HOST):$(PORT)
LOADTEST_MODELS ?= --translator en-fr --kserve-model en-fr --tagger tagger --captioner captioner --session-model co2
loadtest:
	seqserve loadtest --target $(TARGET) --users $(USERS) --duration $(DURATION) \
		--out loadtest-report $(LOADTEST_MODELS)

clean:
	rm -rf $(RUNS) $(REPO) bench_results loadtest-report
