"""The CI gate: retrieval and extractive answers over the gold-article corpus, thresholds in
evals/suites/realtimeqa-gold.toml. A drop fails the build with the metric and the questions."""

import json

import pytest

from evals.runner import SuiteRun

pytestmark = pytest.mark.corpus  # runs the suite over the whole gold corpus: indexes it first (minutes)


def test_realtimeqa_gold_gate(tmp_path, settings):
    run_dir = SuiteRun(settings, "realtimeqa-gold", out=tmp_path / "gate").run()
    summary = json.loads((run_dir / "summary.json").read_text())
    metrics = summary["metrics"]
    print("\nCI gate metrics:", json.dumps({k: v for k, v in metrics.items() if not k.startswith("latency")}, indent=1))
    message = "\n".join(f"{f['metric']} = {f['value']} (threshold {f['threshold']}); regressed questions: "
                        f"{', '.join(f['questions'][:30])}" for f in summary["failures"])
    assert not summary["failures"], message
