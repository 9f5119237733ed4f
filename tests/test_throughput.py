"""The machine-limit benchmark runs and reports positive, finite throughputs (it asserts no speed)."""

import math

from greedy.pipeline import throughput


def test_machine_limit_report_is_measured():
    figures = throughput.report(quick=True)
    pinned = {"pinned_fit_gflops_64", "pinned_matmul_gflops_64", "one_core_fraction_64"}
    assert set(figures) == {"matmul_gflops", "fit_gflops_64"} | pinned
    assert all(math.isfinite(v) and v > 0 for v in figures.values())
    data = throughput.mnist1d_sized_data()
    assert (data.x_train.shape, data.x_test.shape, data.n_classes) == ((4000, 40), (1000, 40), 10)
