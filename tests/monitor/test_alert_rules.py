"""deploy/prometheus/alerts.yml: valid for promtool, its unit tests pass, and the in-process engine's
defaults (AlertThresholds) are the file's bounds, windows, for durations and severities."""

from __future__ import annotations

import re
import subprocess
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import yaml

from crossbook.monitor.alerts import ALERT_NAMES, FOR_FIELD, SEVERITY, AlertThresholds
from tests.system_packages import require_binary

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
RULES = DEPLOY / "alerts.yml"
# each rule's comparisons (operator -> the AlertThresholds field holding its bound)
BOUNDS: dict[str, dict[str, str]] = {
    "HighLatency": {">": "latency_p99_seconds"},
    "RateLimitWarning": {">": "ratelimit_usage_ratio"},
    "OrderFailures": {">": "order_failure_ratio", ">=": "order_failure_min_count"},
    "UnusualSlippage": {">": "slippage_mean_bps", ">=": "slippage_min_count"},
    "StaleBook": {">": "stale_book_age_seconds"},
    "ResyncStorm": {">": "resync_storm_count"},
}
WINDOW = {"HighLatency": "latency_window", "OrderFailures": "order_failures_window",
          "UnusualSlippage": "slippage_window", "ResyncStorm": "resync_window"}
UNITS = {"s": 1, "m": 60, "h": 3600}


def promtool() -> str:
    try:
        return require_binary("promtool", "prometheus")
    except RuntimeError as exc:
        pytest.fail(f"promtool is missing ({exc}); .ci/run installs the Debian package prometheus, which ships it")


def rules() -> dict[str, dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {rule["alert"]: rule for group in groups for rule in group["rules"]}


def seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+)([smh])", duration)
    assert match, f"unexpected duration {duration!r}"
    return int(match[1]) * UNITS[match[2]]


def test_promtool_checks_the_rules() -> None:
    result = subprocess.run([promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(ALERT_NAMES)} rules found" in result.stdout


def test_promtool_unit_tests_pass() -> None:
    result = subprocess.run([promtool(), "test", "rules", "alerts_test.yml"], cwd=DEPLOY, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_rule_has_unit_tests() -> None:
    tested = {case["alertname"] for test in yaml.safe_load((DEPLOY / "alerts_test.yml").read_text())["tests"]
              for case in test.get("alert_rule_test", [])}
    assert tested == set(ALERT_NAMES)


def test_the_rule_file_has_the_seven_alerts_naming_the_venue() -> None:
    found = rules()
    assert list(found) == list(ALERT_NAMES)
    for name, rule in found.items():
        assert rule["labels"]["severity"] == SEVERITY[name], name
        for annotation in ("summary", "description"):
            assert "{{ $labels.venue }}" in rule["annotations"][annotation], (name, annotation)


def test_engine_defaults_are_the_rule_files() -> None:
    defaults = AlertThresholds()
    covered = {*FOR_FIELD.values(), *WINDOW.values(), *(f for bounds in BOUNDS.values() for f in bounds.values())}
    assert covered == {f.name for f in fields(AlertThresholds)} - {"webhook"}, "a threshold the rule file does not set"
    for name, rule in rules().items():
        expr = " ".join(rule["expr"].split())
        assert seconds(rule.get("for", "0s")) == defaults.for_seconds(name), name
        comparisons = {op: float(bound) for op, bound in re.findall(r"(>=|>)\s*([\d.]+)", expr)}
        for op, threshold in BOUNDS.get(name, {}).items():
            assert comparisons[op] == getattr(defaults, threshold), (name, threshold)
        windows = set(re.findall(r"\[(\d+[smh])\]", expr))
        if name in WINDOW:
            assert [seconds(w) for w in windows] == [getattr(defaults, WINDOW[name])], (name, windows)
        else:
            assert not windows, name
    assert "crossbook_feed_connected == 0" in rules()["ConnectionLost"]["expr"]
    assert 'crossbook_book_state{state="stale"}) == 1' in rules()["StaleBook"]["expr"]


def test_example_scrape_config_is_valid() -> None:
    result = subprocess.run([promtool(), "check", "config", "prometheus.yml"], cwd=DEPLOY, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
