#!/bin/bash
# outputs_snapshot.sh TREE FINAL INPUTS: every job of the project on the sample and the test corpora, run with
# the code in TREE (a checkout, e.g. `git worktree add /tmp/before <rev>`); the sha256 of every output file goes
# to FINAL/sha256.txt. For refactors that must change no output byte: run it on the tree before and after, with
# the same INPUTS, and compare the lists (benchmarks/RESULTS.md, "Outputs before and after issue 19").
# INPUTS holds sample_warc/ and reference/ (copies of sample_data/warc and sample_data/reference), faults/ and
# tables/ (`python -m testkit.faults INPUTS/faults`, `python -m testkit.table_faults INPUTS/tables`, without
# their expected.json). Every run writes under the same absolute path (/tmp/outputs-snapshot) and reads the
# same INPUTS, because paths are part of the outputs (warc_path, part names).
set -e
TREE=$(realpath "$1"); FINAL=$(realpath -m "$2"); INPUTS=$(realpath "$3"); OUT=/tmp/outputs-snapshot
PY=${PYTHON:-$(dirname "$(realpath "$0")")/../.venv/bin/python}
export PYTHONPATH=$TREE PYSPARK_PYTHON=$PY PYSPARK_DRIVER_PYTHON=$PY SPARK_LOCAL_IP=127.0.0.1
SS="$(dirname "$PY")/spark-submit --conf spark.ui.enabled=false --driver-java-options -Dlog4j2.configurationFile=file:$TREE/configs/log4j2.properties"
LANGS="langid.languages=['en','de','fr','es','it','pt','nl','ru','zh','ja','pl','tr']"
rm -rf $OUT $FINAL; mkdir -p $OUT; cd $TREE
$PY jobs/run_stages.py --stages extract --input $INPUTS/sample_warc --output $OUT/negatives
$PY jobs/train_quality_classifier.py --positives $INPUTS/reference --negatives $OUT/negatives --output $OUT/qmodel --set train_quality.epoch=50 --set train_quality.lr=0.5
$SS jobs/build_corpus.py --input $INPUTS/sample_warc --output $OUT/demo --config configs/demo.toml --set quality.model_path=$OUT/qmodel/model.bin
$PY jobs/train_tokenizer.py --input $OUT/demo/corpus --output $OUT/demo/tokenizer --config configs/tokenizer.toml
$PY jobs/tokenize_corpus.py --input $OUT/demo/corpus --tokenizer $OUT/demo/tokenizer/tokenizer.json --output $OUT/demo/tokens --config configs/tokenizer.toml
OMP_NUM_THREADS=1 $PY -m trainer.train --tokens_dir $OUT/demo/tokens --out_dir $OUT/demo --model tiny --seq_len 64 --micro_batch 8 --max_steps 20 --lr 3e-3 --warmup_steps 5 --eval_every 10 --checkpoint_every 0 --log_every 10
$PY jobs/report.py $OUT/demo
$PY jobs/run_stages.py --input $INPUTS/sample_warc --output $OUT/rs_sample --set "$LANGS" --set "pipeline.stages=['extract','langid','url','heuristics','quality','dedup','pii']" --set quality.model_path=$OUT/qmodel/model.bin
$PY jobs/report.py $OUT/rs_sample
$PY jobs/run_stages.py --input $INPUTS/faults --output $OUT/rs_faults
$SS jobs/build_corpus.py --input $INPUTS/faults --output $OUT/bc_faults
$PY jobs/run_stages.py --input $INPUTS/tables --output $OUT/rs_tables --set "pipeline.stages=['extract']" --set pipeline.max_text_bytes=65536
$PY jobs/run_stages.py --input $INPUTS/tables --output $OUT/rs_tables_all --set pipeline.max_text_bytes=65536
$SS jobs/build_corpus.py --input $INPUTS/sample_warc --output $OUT/bc_cascade_off --set "$LANGS" --set extract.cascade=false
mv $OUT $FINAL && cd $FINAL && find . -type f | sort | while read f; do echo "$(sha256sum "$f" | cut -c1-16) $f"; done > $FINAL/sha256.txt
echo done
