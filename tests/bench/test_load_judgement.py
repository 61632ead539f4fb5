"""The load test's memory rule: growth after the warm-up is judged, the warm-up's rise is not."""

from bench.load.run import FLAT_MB_PER_MINUTE, memory_figures


def samples(rss_at) -> list[dict]:
    """A 300 s run sampled every 5 s: the server's RSS as a function of the second."""
    return [{"t": float(t), "server": rss_at(t), "server_cpu_seconds": t / 10} for t in range(0, 301, 5)]


def test_a_rise_during_the_warm_up_then_a_plateau_is_flat():
    figures = memory_figures(samples(lambda t: 120.0 + min(t, 40) / 2), "server")
    assert figures["flat"] is True
    assert figures["start_mb"] == 120.0 and figures["end_mb"] == 140.0
    assert figures["slope_mb_per_minute"] == 0.0


def test_steady_growth_after_the_warm_up_is_not_flat():
    figures = memory_figures(samples(lambda t: 130.0 + t * 4 / 60), "server")
    assert figures["slope_mb_per_minute"] == 4.0 > FLAT_MB_PER_MINUTE
    assert figures["flat"] is False
    assert figures["cpu_seconds"] == 30.0
