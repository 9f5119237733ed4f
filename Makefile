# Two commands do everything, from a fresh clone:
#   make study   set up, run the study (skips what is up to date), build the book
#   make test    set up, then lint, unit tests (both Keras backends), nbval regression, book build + browser check
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NOTEBOOKS := $(shell sed -n 's/^  \([a-z_0-9]*\):$$/book\/\1.ipynb/p' study.yml)
export TF_CPP_MIN_LOG_LEVEL := 3
export PYTHONDONTWRITEBYTECODE := 1
# JAX's persistent compile cache for the tests and nbval (greedy run sets it for its kernels itself,
# see greedy/pipeline/compile_cache.py); GREEDY_JAX_CACHE= (empty) turns it off.
# One folder per number of usable cores, as greedy run's kernels use (compile_cache.cache_dir says why).
GREEDY_JAX_CACHE ?= $(HOME)/.cache/greedy/jax
ifneq ($(GREEDY_JAX_CACHE),)
export JAX_COMPILATION_CACHE_DIR := $(GREEDY_JAX_CACHE)/cores-$(shell nproc 2>/dev/null || echo 1)
export JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS := 0.2
endif
# XLA's CPU compile setting the study's kernels get too (compile_cache.py): ~30% faster compiles,
# the same networks. Left out where a GPU driver is present.
ifeq ($(wildcard /dev/nvidiactl /dev/kfd),)
ifeq ($(findstring xla_backend_optimization_level,$(XLA_FLAGS)),)
export XLA_FLAGS := $(strip $(XLA_FLAGS) --xla_backend_optimization_level=1)
endif
endif

.PHONY: setup study book test lint unit nbval browser bench mutants clean

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@echo "Setting up $(VENV) from requirements.lock: about 2 minutes and 2.7 GB, once."
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

# One Dask worker per core (a LocalCluster on 127.0.0.1); WORKERS=0 runs serially in one process.
WORKERS ?= $(shell nproc 2>/dev/null || echo 1)

study: setup
	$(BIN)/greedy run --workers $(WORKERS)
	$(MAKE) --no-print-directory book

# The HTML book, then the same pages on one HTML page printed to a PDF by headless Chromium
# (skipped, with a message, where no browser is installed; CI installs one).
# A changed stylesheet alone changes no page, and a build that writes no page copies no static file:
# then every page is built again (--all), so that the new stylesheet reaches _build/html.
BOOK_ALL = $(if $(shell find book/_assets -newer _build/html/index.html 2>/dev/null | head -1),--all,)
book: setup
	$(BIN)/greedy readme
	$(BIN)/jupyter-book build book/ -W -n --keep-going $(BOOK_ALL) --path-output . > .book-build.log 2>&1 || (cat .book-build.log; exit 1)
	$(BIN)/jupyter-book build book/ --builder singlehtml --path-output _build/pdf > .book-build.log 2>&1 || (cat .book-build.log; exit 1)
	$(BIN)/greedy pdf --if-browser _build/pdf/_build/singlehtml/index.html _build/html/greedy-book.pdf
	@echo "The book: $(CURDIR)/_build/html/index.html"

# The library, the tests and the source notebooks' code, by the same rules.
lint: setup
	$(BIN)/ruff check greedy tests book/sources
	$(BIN)/ruff format --check greedy tests book/sources

unit: setup
	KERAS_BACKEND=jax $(BIN)/pytest -q tests --ignore=tests/test_browser.py
	KERAS_BACKEND=tensorflow $(BIN)/pytest -q tests/test_keras_engine.py tests/test_tutorial.py

# nbval re-executes copies of the executed notebooks in a scratch folder, so the records they
# write on the way do not overwrite book/results; the published records are copied there first, for
# the notebooks that read other chapters' (study.yml's `uses`; records are written atomically). The notebooks run in NBVAL_PARTS groups side by
# side (balanced by their last run times: `greedy partition`), each group's kernels on a core of
# their own as the study's workers are (two notebooks sharing both cores ran slower).
NBVAL_PARTS ?= $(shell nproc 2>/dev/null || echo 1)
# A cell may run long: the few-labels chapter's study is one cell of about an hour on one core
# (nbval's default of 2,000 s stops it half-way).
NBVAL_CELL_TIMEOUT ?= 7200
nbval: setup
	@scratch=$$(mktemp -d) && cp $(NOTEBOOKS) $$scratch/ && mkdir $$scratch/results && \
	  cp book/results/*.csv $$scratch/results/ && \
	  $(BIN)/greedy partition $(NBVAL_PARTS) > $$scratch/parts && cd $$scratch && \
	  pin=$$(command -v taskset > /dev/null && echo yes); pids=""; i=0; \
	  while read -r cores notebooks; do \
	    i=$$((i + 1)); echo "nbval part $$i (cores $$cores): $$notebooks"; \
	    ( if [ -n "$(GREEDY_JAX_CACHE)" ] && [ -n "$$pin" ]; then \
	        export JAX_COMPILATION_CACHE_DIR="$(GREEDY_JAX_CACHE)/cores-$$(echo $$cores | awk -F, '{print NF}')"; fi; \
	      $${pin:+taskset -c $$cores} $(abspath $(BIN))/pytest -q -p no:cacheprovider --nbval --nbval-current-env --nbval-cell-timeout=$(NBVAL_CELL_TIMEOUT) \
	        --nbval-sanitize-with $(CURDIR)/tests/nbval_sanitize.cfg $$notebooks > part-$$i.log 2>&1 ) & \
	    pids="$$pids $$!"; \
	  done < parts; \
	  status=0; for pid in $$pids; do wait $$pid || status=1; done; \
	  for log in part-*.log; do echo "== $$log"; cat $$log; done; \
	  cd / && rm -rf $$scratch; exit $$status

# Every page of the built book in headless Chromium (needs chromium and chromium-driver; .ci/run
# installs them, and under CI=true the check never skips).
browser: book
	$(BIN)/pytest -q tests/test_browser.py

test: lint unit nbval browser

bench: setup
	$(BIN)/greedy bench

# Mutation testing of the modules that compute the study's numbers (tests/mutation.py), in a scratch
# copy of the tree; not part of `make test`. A seeded sample of 10 of each module's mutants by default:
# make mutants MUTANTS="--sample 0" runs them all (hours), MUTANTS="--module greedy/analysis/stats.py" one module.
MUTANTS ?= --sample 10
mutants: setup
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-mutation.lock
	$(BIN)/python tests/mutation.py $(MUTANTS)

clean:
	rm -rf _build .book-build.log book/results/.staging runs
