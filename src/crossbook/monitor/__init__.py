"""Prometheus metrics, alert rules and their evaluation, alert sinks."""

from .metrics import Metrics, MetricTotals, RouteRecord, Slippage, VenueTotals

__all__ = ["MetricTotals", "Metrics", "RouteRecord", "Slippage", "VenueTotals"]
