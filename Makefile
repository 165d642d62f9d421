# HyperFuse: `make demo` and `make test` install what they need (Debian packages, a
# virtual environment with torch) and then run. Long jobs: `make bench`.
SHELL := /bin/bash
SYSTEM_PYTHON := /usr/bin/python3
VENV := .venv
PYTHON := $(VENV)/bin/python
BUILD := .build
PLUGINS := $(BUILD)/plugins

# The plugin imports as `hyperfuse` whatever this folder is called: QGIS and Python find it
# through a link of that name. qgis_process gets its own settings profile under .build.
export QT_QPA_PLATFORM := offscreen
export QGIS_PLUGINPATH := $(CURDIR)/$(PLUGINS)
export QGIS_CUSTOM_CONFIG_PATH := $(CURDIR)/$(BUILD)/qgis-profile
export PYTHONPATH := $(CURDIR)/$(PLUGINS):/usr/share/qgis/python/plugins
export XDG_RUNTIME_DIR := $(CURDIR)/$(BUILD)/runtime
export PYTHONUNBUFFERED := 1

.PHONY: setup demo test bench bench-perf bench-scale-out weights i18n compare-model clean

$(BUILD)/system-packages.stamp: tools/install_system_packages.sh
	bash tools/install_system_packages.sh
	mkdir -p $(BUILD) && touch $@

$(VENV)/installed.stamp: $(BUILD)/system-packages.stamp requirements.txt constraints.txt
	$(SYSTEM_PYTHON) -m venv --system-site-packages $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -c constraints.txt -r requirements.txt
	touch $@

$(PLUGINS)/hyperfuse:
	mkdir -p $(PLUGINS) $(XDG_RUNTIME_DIR) && chmod 700 $(XDG_RUNTIME_DIR)
	ln -sfn $(CURDIR) $@

setup: $(VENV)/installed.stamp $(PLUGINS)/hyperfuse
	@mkdir -p $(XDG_RUNTIME_DIR) && chmod 700 $(XDG_RUNTIME_DIR)
	@qgis_process.bin plugins enable hyperfuse >/dev/null 2>&1 || true

demo: setup
	$(PYTHON) tools/demo.py

test: setup
	$(PYTHON) -m pytest tests

# Long jobs (not part of the tests): the bundled weights, and the benchmark tables in docs/.
weights: setup
	$(PYTHON) tools/make_weights.py

bench: setup
	$(PYTHON) tools/bench.py
	$(PYTHON) tools/bench_training.py

# Speed and memory of every method on generated EnMAP + Sentinel-2 inputs (docs/performance.md); BENCH_SIZES
# sets the HR sizes, e.g. `make bench-perf BENCH_SIZES="600 1500 3000 6000"`, BENCH_BANDS the LR-HSI's bands (218:
# the bundled EnMAP models; fewer: the generic models). Sizes that fit in memory as one block are also run that
# way, for the tiling's overhead. Then "Quality assessment" through qgis_process at BENCH_QA_SIZES.
BENCH_SIZES ?= 600 1500
BENCH_BANDS ?= 218
BENCH_QA_SIZES ?= 240 3000
bench-perf: setup
	PYTHONPATH=$(PYTHONPATH):$(CURDIR)/tools $(PYTHON) tools/bench_perf.py --sizes $(BENCH_SIZES) \
		--bands $(BENCH_BANDS) --whole --output $(BUILD)/performance_tables.md
	PYTHONPATH=$(PYTHONPATH):$(CURDIR)/tools $(PYTHON) tools/bench_assessment.py --sizes $(BENCH_QA_SIZES) \
		--output $(BUILD)/assessment_table.md

# The same fusion in-process and on a Dask LocalCluster of BENCH_WORKERS workers (docs/scale-out.md).
BENCH_SCALE_SIZE ?= 1500
BENCH_WORKERS ?= 2
bench-scale-out: setup
	PYTHONPATH=$(PYTHONPATH):$(CURDIR)/tools $(PYTHON) tools/bench_scale_out.py --size $(BENCH_SCALE_SIZE) \
		--workers $(BENCH_WORKERS) --methods deepsen3 gsa --output $(BUILD)/scale_out_table.md

# Translations (docs/DESIGN.md, i18n/): every i18n/hyperfuse_<language>.ts gets the texts the sources mark
# (algorithms/i18n.py says how), keeping the translations it has, and is compiled to the .qm the plugin loads.
# Translate the new or changed entries (Qt Linguist, or by hand: no type="unfinished" may remain), then run
# this again and commit both files. Adding a language: copy a .ts, empty its translations, set its language.
I18N_SOURCES = $(sort $(wildcard *.py processing_provider/*.py algorithms/*.py) $(shell find core -name '*.py'))
TRANSLATIONS = $(wildcard i18n/hyperfuse_*.ts)

i18n:
	bash tools/install_system_packages.sh pyqt5-dev-tools qttools5-dev-tools
	PYTHONWARNINGS=ignore pylupdate5 -noobsolete $(I18N_SOURCES) -ts $(TRANSLATIONS)
	for ts in $(TRANSLATIONS); do lrelease -silent -nounfinished $$ts -qm $${ts%.ts}.qm || exit 1; done

# The shipped Processing model (models/compare_fusion_methods.model3), rebuilt from tools/make_compare_model.py
# when an algorithm it chains changes.
compare-model: setup
	$(PYTHON) tools/make_compare_model.py

clean:
	rm -rf $(BUILD) demo_output
