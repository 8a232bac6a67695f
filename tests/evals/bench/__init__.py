"""Tests of the benchmarks in evals/bench/."""
