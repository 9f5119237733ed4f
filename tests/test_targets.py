"""The speed targets the benchmarks print their figures against."""

from greedy.pipeline.targets import AGAINST_KERAS, ESTIMATOR, MNIST_SIZED, TINY_NETWORKS, Target


def test_a_target_says_its_limit_the_figure_and_whether_it_is_met():
    at_most = Target(9, "seconds per fit", 2.0, at_most=True, unit=" ms")
    assert at_most.met(2.0) and at_most.met(1.5) and not at_most.met(2.01)
    assert at_most.verdict(9.2) == "target 9 (seconds per fit): 9.2 ms, limit <= 2 ms: NOT met"
    at_least = Target(8, "share", 50.0, at_most=False, unit="%")
    assert at_least.met(50.0) and not at_least.met(49.9)
    assert at_least.verdict(61.25).endswith("61.2%, limit >= 50%: met")


def test_the_four_targets_are_the_speed_issues():
    assert [t.number for t in (TINY_NETWORKS, MNIST_SIZED, AGAINST_KERAS, ESTIMATOR)] == [1, 2, 3, 4]
    assert (TINY_NETWORKS.limit, TINY_NETWORKS.at_most) == (2.0, True)
    assert (MNIST_SIZED.limit, MNIST_SIZED.at_most) == (50.0, False)
    assert (AGAINST_KERAS.limit, AGAINST_KERAS.at_most) == (5.0, False)
    assert (ESTIMATOR.limit, ESTIMATOR.at_most) == (1.5, True)
