"""The stage contract (contract/stage.py): rules declared once drive `decide`, the statistics and the report;
the package graph has no cycle and filters/ sees nothing of the pipeline but the contract."""
from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest

from contract.stage import DocumentStage, Page, Rule, Threshold, flag
from pipeline.config import load_config
from pipeline.registry import STAGE_CLASSES
from pipeline.stats.rules import all_rules, decision_rules, declared_rules
from tests.conftest import ROOT

PRODUCT_PACKAGES = ("contract", "filters", "dedup", "pipeline", "tokenizer", "trainer", "reporting", "testkit")
MAX_MODULE_LINES = 500


def test_a_threshold_drops_by_its_comparison_per_language_and_never_passes_nan():
    low = Threshold.per_language("<", {"default": 3.0, "zh": 1.0}, "heuristics.gopher_quality.min_mean_word_length")
    assert low.config_key == "heuristics.gopher_quality.min_mean_word_length.default"
    assert (low.fails(2.9, "en"), low.fails(3.0, "en"), low.fails(2.9, "zh"), low.fails(0.9, "zh")) == (
        True, False, False, True)
    at_most = Threshold("<=", 0.65, "langid.min_score.default")
    assert (at_most.fails(0.65, "en"), at_most.fails(0.66, "en")) == (True, False)
    assert low.fails(math.nan, "en") and at_most.fails(math.nan, "en")
    with pytest.raises(ValueError, match="drops_when"):
        Threshold("!=", 1.0, "x")


def test_a_rule_is_a_threshold_or_a_test_and_a_null_signal_drops_nothing():
    rule = Rule("too_many", "too many", "count", (Threshold(">", 2, "s.max"),))
    assert (rule.fails({"count": 3}), rule.fails({"count": 2}), rule.fails({"count": None})) == (True, False, False)
    assert flag("marked", "is_marked", "marked").fails({"is_marked": True})
    exempt = Rule("few", "few", "count", (Threshold("<", 2, "s.min"),), unless=lambda doc, lang: lang == "zh")
    assert (exempt.fails({"count": 1}, "en"), exempt.fails({"count": 1}, "zh")) == (True, False)
    with pytest.raises(ValueError):
        Rule("both", "both", "x", (Threshold(">", 1, "k"),), test=lambda doc: True)
    with pytest.raises(ValueError):
        Rule("unnamed", "no signal", thresholds=(Threshold(">", 1, "k"),))
    with pytest.raises(TypeError, match="outside"):
        Rule("elsewhere", "decided by dedup").fails({})


class Toy(DocumentStage):
    name = "toy"
    config_class = dict

    def __init__(self, config: dict) -> None:
        self.config = config

    def measure(self, doc):
        return {"toy_words": len(doc["text"].split())}

    @classmethod
    def rules(cls, config):
        return (Rule("empty", "no text", test=lambda doc: not doc["text"]),
                Rule("too_short", "few words", "toy_words", (Threshold("<", config["min_words"], "toy.min_words"),)))


def test_decide_checks_the_declared_rules_in_order_and_survives_pickling():
    import pickle

    stage = Toy({"min_words": 3})
    assert [stage.decide({"text": t, **stage.measure({"text": t})}) for t in ("", "a b", "a b c")] == [
        "empty", "too_short", None]
    shipped = pickle.loads(pickle.dumps(stage))  # the cached rules (closures) stay behind, rebuilt on the worker
    assert "_loaded_rules" in stage.__dict__ and "_loaded_rules" not in shipped.__dict__
    assert shipped.decide({"text": "a", "toy_words": 1}) == "too_short"


def test_a_page_makes_its_fast_texts_once_and_only_when_asked():
    calls = []
    page = Page("https://a.example/", lambda: calls.append(1) or ("visible", "main"))
    assert calls == []
    assert (page.visible_text(), page.main_text(), page.main_text()) == ("visible", "main", "main")
    assert calls == [1]
    assert Page(None, lambda: None).visible_text() is None


@pytest.mark.parametrize("name", sorted(STAGE_CLASSES))
def test_every_registered_stage_declares_distinct_rules_and_its_config_section(name):
    stage = STAGE_CLASSES[name]
    section = getattr(load_config(None, []), name)
    assert isinstance(section, stage.config_class)
    names = [rule.name for rule in stage.rules(section)]
    assert names and len(names) == len(set(names)), names
    assert all(rule.means for rule in stage.rules(section) + stage.precheck_rules(section))
    fields = stage.fields or stage(section).fields  # PII's columns depend on its configured entities
    assert all(rule.signal in {f.name for f in fields} for rule in stage.rules(section) if rule.signal)


def test_statistics_read_the_stages_declarations():
    config = load_config(None, ["pipeline.stages=['extract','langid','url','heuristics','quality','dedup','pii']"])
    declared = [reason for reason, _ in declared_rules(config)]
    expected = [f"{name}:{rule.name}" for name in ("langid", "url", "heuristics", "quality", "pii")
                for rule in STAGE_CLASSES[name].rules(getattr(config, name))]
    assert declared[:len(expected)] == expected
    assert [reason for reason in declared[len(expected):]] == [
        "dedup:exact_duplicate", "dedup:near_duplicate", "dedup:too_many_repeated_lines", "dedup:duplicate_id"]
    # one ThresholdRule per comparison: the mean word length rule has two
    thresholds = [rule for reason, rule in decision_rules(config) if reason.endswith("mean_word_length_out_of_range")]
    assert [(t.drops_when, t.threshold) for t in thresholds] == [("<", 3.0), (">", 10.0)]
    reasons = [reason for reason, _ in all_rules(config)]
    assert reasons.index("warc:non_200_status") < reasons.index("cascade:too_few_words") < reasons.index(
        "extract:no_text") < reasons.index("langid:too_short")


def test_a_disabled_family_has_no_rules_and_a_changed_threshold_is_reported():
    config = load_config(None, ["heuristics.c4.enabled=false", "heuristics.gopher_quality.min_words=80"])
    reasons = dict((reason, rule) for reason, rule in decision_rules(config))
    assert not any(reason.startswith("heuristics:c4_") for reason in reasons)
    assert reasons["heuristics:gopher_too_few_words"].threshold == 80.0


def imports_of(path: Path) -> set[str]:
    """Top-level names of every module `path` imports (at module level or inside functions)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {package: set() for package in PRODUCT_PACKAGES}
    for package in PRODUCT_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            graph[package] |= {name.split(".")[0] for name in imports_of(path)} & set(PRODUCT_PACKAGES) - {package}
    return graph


def test_packages_form_no_cycle_and_filters_see_only_the_contract():
    graph = package_graph()
    assert graph["contract"] == set()
    assert graph["filters"] == {"contract"}
    assert graph["dedup"] <= {"contract"}
    order: list[str] = []  # a topological order exists exactly when there is no cycle
    remaining = dict(graph)
    while remaining:
        ready = sorted(package for package, needs in remaining.items() if needs <= set(order))
        assert ready, f"import cycle among {sorted(remaining)}: {remaining}"
        order += ready
        for package in ready:
            del remaining[package]


def test_no_module_outside_tests_and_benchmarks_is_longer_than_500_lines():
    long = {str(path.relative_to(ROOT)): lines for package in (*PRODUCT_PACKAGES, "jobs", "sample_data")
            for path in (ROOT / package).rglob("*.py")
            if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert long == {}
