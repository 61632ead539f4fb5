"""job_collect: values that arrive while the collector waits, or while it sends, go out together
as one job."""

import threading

from annotator.core.job_queue import _Collector


class SlowTask:
    """A task whose first send waits until the test lets it go, as a busy broker would; later
    sends go at once."""

    name = "tests.slow"

    def __init__(self) -> None:
        self.sent: list[list] = []
        self.sending = threading.Event()
        self.release = threading.Event()
        self.all_sent = threading.Condition()

    def apply_async(self, args) -> None:
        if not self.sending.is_set():
            self.sending.set()
            self.release.wait(timeout=10)
        with self.all_sent:
            self.sent.append(args[0])
            self.all_sent.notify_all()

    def wait_for(self, count: int) -> bool:
        with self.all_sent:
            return self.all_sent.wait_for(lambda: sum(len(values) for values in self.sent) >= count, timeout=10)


def test_values_that_arrive_during_a_send_go_out_as_one_job():
    collector, task = _Collector(wait=0), SlowTask()

    # when: one value is being sent while three more arrive
    collector.add(task, "first")
    assert task.sending.wait(timeout=10)
    for value in ("second", "third", "fourth"):
        collector.add(task, value)
    task.release.set()

    # then
    assert task.wait_for(4)
    assert task.sent == [["first"], ["second", "third", "fourth"]]


def test_a_value_on_its_own_goes_out_as_a_job_of_one():
    collector, task = _Collector(wait=0), SlowTask()
    task.release.set()
    collector.add(task, "only")
    assert task.wait_for(1)
    assert task.sent == [["only"]]


def test_flush_sends_what_is_pending_on_the_calling_thread():
    # At exit the collector's daemon thread dies with the process: what waits must go now.
    collector, task = _Collector(wait=0), SlowTask()
    collector.add(task, "first")
    assert task.sending.wait(timeout=10)
    collector.add(task, "left behind")  # the collector's thread is busy: this one waits

    collector.flush()

    assert task.sent == [["left behind"]]  # sent here, while the thread still waits
    task.release.set()
    assert task.wait_for(2)
    assert task.sent == [["left behind"], ["first"]]


def test_values_that_arrive_while_the_collector_waits_go_out_as_one_job():
    waiting, go_on = threading.Event(), threading.Event()

    def sleep(seconds: float) -> None:  # the collector's wait, held open by the test
        assert seconds == 0.05
        waiting.set()
        go_on.wait(timeout=10)

    collector, task = _Collector(wait=0.05, sleep=sleep), SlowTask()
    task.release.set()
    collector.add(task, "first")
    assert waiting.wait(timeout=10)
    collector.add(task, "second")
    collector.add(task, "third")
    go_on.set()

    assert task.wait_for(3)
    assert task.sent == [["first", "second", "third"]]
