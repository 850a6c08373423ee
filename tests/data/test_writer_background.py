import threading

import pytest

from uvc_data.writer.background import OrderedWorker


@pytest.mark.parametrize("ahead", [0, 1, 3])
def test_items_are_processed_in_order_off_the_caller_thread(ahead):
    seen, threads = [], set()

    def fn(x):
        seen.append(x)
        threads.add(threading.current_thread().name)

    with OrderedWorker(fn, ahead) as w:
        for i in range(20):
            w.submit(i)
    assert seen == list(range(20))
    assert threads == ({"MainThread"} if ahead == 0 else {"uvc-writer"})


def test_a_worker_error_is_raised_in_the_submitting_thread():
    def fn(x):
        if x == 2:
            raise ValueError("disk full at sample 2")

    w = OrderedWorker(fn, 1)
    with pytest.raises(ValueError, match="sample 2"):
        for i in range(100):
            w.submit(i)
        w.close()
