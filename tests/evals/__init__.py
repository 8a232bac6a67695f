"""Tests of evals/: metrics, scoring, suites, the runner and its gate, the judge, the benchmarks."""
