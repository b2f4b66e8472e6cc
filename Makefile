# seqserve: the two commands of the README are `make demo` and `make test`.
PYTHON ?= python3
REPO ?= model_repository
RUNS ?= runs
HOST ?= 127.0.0.1
PORT ?= 50051
METRICS_PORT ?= 9090
TRAIN_MINUTES ?= 6

.PHONY: install data model demo serve test lint protos-check bench clean

# Everything the project needs, from its own files: the package with its
# training/export extra and the dev tools (torch==2.13.0 is the local CPU wheel).
install:
	$(PYTHON) -m pip install -q -e ".[train,dev]"

# Train (if there is no checkpoint yet) and export (if there is no served version yet).
model: install
	@if [ ! -f $(RUNS)/en-fr/DONE ]; then \
		seqserve train --corpus libreoffice --out $(RUNS)/en-fr --max-minutes $(TRAIN_MINUTES) && \
		touch $(RUNS)/en-fr/DONE; \
	fi
	@if [ -z "$$(ls -d $(REPO)/en-fr/[0-9]* 2>/dev/null)" ]; then \
		seqserve export --run $(RUNS)/en-fr --model-repository $(REPO) --name en-fr; \
	fi

demo: model
	REPO=$(REPO) HOST=$(HOST) PORT=$(PORT) METRICS_PORT=$(METRICS_PORT) bash deploy/demo.sh

serve: install
	seqserve serve --model-repository $(REPO) --host $(HOST) --port $(PORT) --metrics-port $(METRICS_PORT)

test: install
	$(PYTHON) -m pytest -q tests

lint:
	ruff check .

protos-check:
	$(PYTHON) -m seqserve.protos.generate --check

bench: model
	$(PYTHON) tests/benchmarks/bench_translate.py --model-repository $(REPO) --model en-fr

clean:
	rm -rf $(RUNS) $(REPO) bench_results
