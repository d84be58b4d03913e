"""The `encoding` stage (filters/encoding.py), the README's "Add a stage" example: its signals against counts
made by hand, its declared rules through the chain, the statistics and the report's rules."""
from __future__ import annotations

import pyarrow as pa
import pytest

from filters.encoding import EncodingConfig, EncodingStage, encoding_signals
from pipeline.config import load_config
from pipeline.corpus import build_stages, output_schema
from pipeline.stages import chain_batches
from pipeline.stats.rules import all_rules, decision_rules

CLEAN = "Les enfants ont planté des haricots près de la clôture du jardin."
MOJIBAKE = CLEAN.encode("utf-8").decode("cp1252")  # "plantÃ©", "prÃ¨s", "clÃ´ture"
STAGES = "pipeline.stages=['extract','langid','url','heuristics','encoding','dedup','pii']"


def test_signals_count_replacement_characters_and_mojibake_per_non_space_character():
    assert encoding_signals(CLEAN) == {"encoding_replacement_frac": 0.0, "encoding_mojibake_frac": 0.0}
    non_space = len("".join(MOJIBAKE.split()))
    # three accented letters became two characters each: 6 characters of mojibake
    assert encoding_signals(MOJIBAKE) == {"encoding_replacement_frac": 0.0, "encoding_mojibake_frac": 6 / non_space}
    assert encoding_signals("ab\ufffd\ufffd cd") == {"encoding_replacement_frac": 2 / 6, "encoding_mojibake_frac": 0.0}
    assert encoding_signals("it\u00e2\u20ac\u2122s") == {"encoding_replacement_frac": 0.0, "encoding_mojibake_frac": 3 / 6}
    assert encoding_signals(" \n") == {"encoding_replacement_frac": 0.0, "encoding_mojibake_frac": 0.0}


@pytest.mark.parametrize("text", ["Ações da Petrobras sobem.", "Ça coûte 5 € — à peine.", "Größe: 30 °C, Æble, øl"])
def test_accented_text_of_many_languages_is_not_mojibake(text):
    assert encoding_signals(text)["encoding_mojibake_frac"] == 0.0


def test_the_stage_runs_in_the_chain_from_its_registry_line_and_config_section():
    config = load_config(None, [STAGES, "encoding.max_mojibake_frac=0.05", "langid.languages=['fr']"])
    before, _ = build_stages(config)
    assert [stage.name for stage in before] == ["langid", "url", "heuristics", "encoding"]
    stage = before[-1]
    assert isinstance(stage, EncodingStage) and stage.config == EncodingConfig(max_mojibake_frac=0.05)
    schema = output_schema(config)
    rows = [{"id": str(i), "url": f"https://jardin.example/{i}", "text": text, "drop_reason": None,
             "lang": "fr"} for i, text in enumerate([CLEAN, MOJIBAKE, "Des haricots \ufffd\ufffd\ufffd."])]
    batch = pa.RecordBatch.from_pylist(rows, schema=pa.schema([schema.field(n) for n in rows[0]]))
    out = next(chain_batches([stage], schema)(iter([batch]))).to_pylist()
    assert [row["drop_reason"] for row in out] == [None, "encoding:mojibake", "encoding:replacement_chars"]


def test_statistics_and_report_know_its_rules_without_another_edit():
    config = load_config(None, [STAGES])
    reasons = [reason for reason, _ in all_rules(config)]
    assert reasons.index("heuristics:badwords_count_too_high") < reasons.index("encoding:replacement_chars") < \
        reasons.index("encoding:mojibake") < reasons.index("dedup:exact_duplicate")
    thresholds = {rule.reason: (rule.signal, rule.drops_when, rule.threshold, rule.config_key)
                  for _, rule in decision_rules(config) if rule is not None and rule.reason.startswith("encoding:")}
    assert thresholds == {
        "encoding:replacement_chars": ("encoding_replacement_frac", ">", 0.01, "encoding.max_replacement_frac"),
        "encoding:mojibake": ("encoding_mojibake_frac", ">", 0.01, "encoding.max_mojibake_frac"),
    }
    assert "encoding" not in load_config(None, []).pipeline.stages  # opt-in: the default run is unchanged
