import time

import pytest

from uvc_data.video.prefetch import prefetch


def _wait_until(cond, timeout=10.0):
    end = time.monotonic() + timeout
    while not cond() and time.monotonic() < end:
        time.sleep(0.01)
    return cond()


def test_prefetch_yields_everything_in_order_and_runs_ahead_within_its_bound():
    produced = []

    def make():
        for i in range(50):
            produced.append(i)
            yield i

    it = prefetch(make, 8)
    assert next(it) == 0
    # the producer runs ahead of the consumer ...
    assert _wait_until(lambda: len(produced) >= 9)
    time.sleep(0.05)
    # ... but never further than the queue bound: 1 consumed + 8 queued + 1 waiting to be put
    assert len(produced) <= 10
    assert [0, *it] == list(range(50))


def test_prefetch_reraises_producer_errors_after_good_items():
    def make():
        yield 1
        raise ValueError("damaged at frame 2")

    it = prefetch(make, 4)
    assert next(it) == 1
    with pytest.raises(ValueError, match="frame 2"):
        next(it)


def test_consumer_stopping_early_stops_the_producer():
    state = {"exited": False}

    def make():
        try:
            for i in range(10**9):
                yield i
        finally:
            state["exited"] = True

    it = prefetch(make, 4)
    assert next(it) == 0
    it.close()  # joins the producer thread
    assert state["exited"]


def test_zero_size_is_plain_iteration():
    assert list(prefetch(lambda: iter(range(5)), 0)) == [0, 1, 2, 3, 4]
