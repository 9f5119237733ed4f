"""The machine-limit benchmark: its FLOP count is right and its figures agree with each other (it
asserts no speed: speed goals are met in the benchmark's printed figures, not in timed tests)."""

import math

from greedy.pipeline import throughput


def test_a_fits_flops_are_six_per_weight_example_and_epoch():
    # MNIST-1D: 40 inputs, 10 classes, 4,000 training rows = 125 batches of 32 (none padded).
    weights = 40 * 64 + 64 * 64 + 64 * 64 + 64 * 10
    assert throughput.fit_flops(64, 3, epochs=2) == 6 * weights * 4000 * 2
    # 4,000 rows in batches of 3: 1,334 batches, the last padded to 3 rows and counted whole.
    assert throughput.fit_flops(64, 3, epochs=1, batch_size=3) == 6 * weights * 1334 * 3


def test_machine_limit_report_is_measured_and_consistent(capsys):
    figures = throughput.report(quick=True)
    pinned = {"pinned_fit_gflops_64", "pinned_matmul_gflops_64", "one_core_fraction_64"}
    assert set(figures) == {"matmul_gflops", "fit_gflops_64"} | pinned
    assert all(math.isfinite(v) and v > 0 for v in figures.values())
    # What it prints is what it returns: each fraction is its fit's throughput over its matmul's.
    out = capsys.readouterr().out
    assert f"{figures['fit_gflops_64'] / figures['matmul_gflops']:5.1%} of matmul" in out
    assert f"= {figures['one_core_fraction_64']:5.1%};" in out
    every_core = figures["pinned_fit_gflops_64"] / figures["pinned_matmul_gflops_64"]
    assert f"{figures['pinned_matmul_gflops_64']:6.1f} = {every_core:5.1%}" in out
    data = throughput.mnist1d_sized_data()
    assert (data.x_train.shape, data.x_test.shape, data.n_classes) == ((4000, 40), (1000, 40), 10)
