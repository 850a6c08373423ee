import threading
import time

import pytest

from uvc_data.video.prefetch import prefetch


def test_prefetch_yields_everything_in_order_and_runs_ahead():
    produced = []

    def make():
        for i in range(50):
            produced.append(i)
            yield i

    it = prefetch(make, 8)
    assert next(it) == 0
    time.sleep(0.2)
    assert 2 <= len(produced) <= 10  # ran ahead, but no more than the bound (+ the item in hand)
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
    def make():
        for i in range(10**9):
            yield i

    before = threading.active_count()
    it = prefetch(make, 4)
    assert next(it) == 0
    it.close()
    time.sleep(0.3)
    assert threading.active_count() == before


def test_zero_size_is_plain_iteration():
    assert list(prefetch(lambda: iter(range(5)), 0)) == [0, 1, 2, 3, 4]
