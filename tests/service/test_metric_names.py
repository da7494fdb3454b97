"""Every metric name the Grafana dashboards (deploy/grafana/*.json) and the Prometheus alert rules
(deploy/prometheus/alerts.yml) query is one `crossbook serve --sim` exports at /metrics, and every
dashboard query parses as PromQL (promtool) and follows the dashboards' conventions."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.system_packages import require_binary

from .serve_process import Serving, serve_sim

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((ROOT / "deploy" / "grafana").glob("*.json"))
ALERT_RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
METRIC = re.compile(r"\b(?:crossbook|process)_[a-z_]+\b")
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{.*\})?\s")
TYPE = re.compile(r"^# TYPE (\S+) (\S+)$")
SERIES_SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}
# Grafana's own variables, replaced by a value of the right kind before promtool parses a query
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__range": "1h", "$venue": ".*", "$quote": "USDT"}
DATASOURCE = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}


@pytest.fixture(scope="module")
def serving(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serving]:
    with serve_sim(tmp_path_factory.mktemp("serve")) as served:
        yield served


def exported(text: str) -> set[str]:
    """Every name a query may use against this exposition: each family's declared name (a counter
    with no labelled child yet is still declared), each sample's name, and a histogram's or
    summary's series names."""
    names: set[str] = set()
    for line in text.splitlines():
        declared = TYPE.match(line)
        if declared:
            name, kind = declared.groups()
            names.add(name)
            names.update(name + suffix for suffix in SERIES_SUFFIXES.get(kind, ()))
        elif not line.startswith("#"):
            sample = SAMPLE.match(line)
            if sample:
                names.add(sample[1])
    return names


def dashboard_queries() -> dict[str, list[str]]:
    """Each dashboard's queries: every panel target's expr and every query variable's query."""
    queries: dict[str, list[str]] = {}
    for path in DASHBOARDS:
        board = json.loads(path.read_text())
        exprs = [t["expr"] for panel in board["panels"] for t in panel.get("targets", [])]
        exprs += [v["definition"] for v in board["templating"]["list"] if v["type"] == "query"]
        queries[path.name] = exprs
    return queries


def alert_queries() -> dict[str, str]:
    rules = yaml.safe_load(ALERT_RULES.read_text())
    return {rule["alert"]: rule["expr"] for group in rules["groups"] for rule in group["rules"] if "alert" in rule}


def scrape(serving: Serving) -> str:
    with urllib.request.urlopen(serving.url + "metrics", timeout=30) as response:
        text: str = response.read().decode()
        return text


def test_the_four_dashboards_and_the_seven_alerts_are_there() -> None:
    assert [p.name for p in DASHBOARDS] == ["cost-analysis.json", "exchange-health.json", "execution-quality.json",
                                           "volume-distribution.json"]
    assert set(alert_queries()) >= {"ConnectionLost", "HighLatency", "RateLimitWarning", "OrderFailures", "UnusualSlippage",
                                    "StaleBook", "ResyncStorm"}


def test_every_metric_queried_is_exported(serving: Serving) -> None:
    names = exported(scrape(serving))
    assert "crossbook_feed_connected" in names and "process_resident_memory_bytes" in names, sorted(names)
    used: dict[str, set[str]] = {}
    for board, exprs in dashboard_queries().items():
        for expr in exprs:
            for name in METRIC.findall(expr):
                used.setdefault(name, set()).add(board)
    for alert, expr in alert_queries().items():
        for name in METRIC.findall(expr):
            used.setdefault(name, set()).add(f"alerts.yml {alert}")
    assert len(used) >= 20, sorted(used)
    missing = {name: sorted(where) for name, where in used.items() if name not in names}
    assert not missing, f"queried but not exported by crossbook serve: {missing}"


def test_exported_names_are_read_with_their_series() -> None:
    text = ("# TYPE crossbook_feed_latency_seconds histogram\ncrossbook_feed_latency_seconds_bucket{venue=\"okx\",le=\"0.1\"} 3\n"
            "# TYPE crossbook_orders_total counter\n# TYPE crossbook_book_age_seconds gauge\n"
            "crossbook_book_age_seconds{venue=\"okx\",symbol=\"BTC-USDT\"} 0.5\n")
    names = exported(text)
    assert {"crossbook_feed_latency_seconds_count", "crossbook_feed_latency_seconds_sum", "crossbook_orders_total",
            "crossbook_book_age_seconds"} <= names
    assert "crossbook_book_age_seconds_count" not in names and "crossbook_orders_total_count" not in names


def test_every_dashboard_query_parses_as_promql(tmp_path: Path) -> None:
    promtool = require_binary("promtool", "prometheus")
    rules = []
    for board, exprs in dashboard_queries().items():
        for i, expr in enumerate(exprs):
            if expr.startswith("label_values("):
                continue  # a Grafana function, not PromQL; its metric is checked above
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            assert "$" not in expr.replace('"$1"', ""), f"{board}: an unknown variable in {expr}"
            rules.append({"record": f"dashboard:{board.removesuffix('.json').replace('-', '_')}:{i}", "expr": expr})
    path = tmp_path / "queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    checked = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(rules)} rules found" in checked.stdout, checked.stdout


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_conventions(path: Path) -> None:
    board: dict[str, Any] = json.loads(path.read_text())
    assert board["schemaVersion"] == 39
    assert board["uid"] == f"crossbook-{path.stem}" and board["title"].startswith("crossbook")
    assert board["__inputs"][0]["name"] == "DS_PROMETHEUS" and board["templating"]["list"][0]["name"] == "DS_PROMETHEUS"
    panels = board["panels"]
    assert len({p["id"] for p in panels}) == len(panels), "panel ids are unique"
    for panel in panels:
        if panel["type"] == "row":
            continue
        where = f"{path.name}: {panel['title']}"
        assert panel["datasource"] == DATASOURCE, where
        assert panel["targets"] and all(t["datasource"] == DATASOURCE for t in panel["targets"]), where
        assert panel["fieldConfig"]["defaults"]["unit"], f"{where} has no unit"
        assert panel["description"], f"{where} says nothing of what it shows"
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24 and grid["w"] > 0 and grid["h"] > 0, where
