"""Measures newsdesk: evaluation suites on real benchmark data, baselines, an LLM judge, reports and
benchmarks (``bench/``)."""
