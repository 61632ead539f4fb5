"""The server processes' heap upkeep: arenas capped once, the heap trimmed on a timer."""

import threading

from annotator.core import heap


class FakeLibc:
    def __init__(self):
        self.options: list[tuple[int, int]] = []
        self.trimmed = threading.Event()

    def mallopt(self, parameter: int, value: int) -> int:
        self.options.append((parameter, value))
        return 1

    def malloc_trim(self, pad: int) -> int:
        self.trimmed.set()
        return 1


def test_the_arenas_are_capped_and_the_heap_is_trimmed_on_a_daemon_thread(monkeypatch):
    libc = FakeLibc()
    monkeypatch.setattr(heap, "_glibc", lambda: libc)
    thread = heap.heap_keep_flat(arenas=2, trim_seconds=0.01)
    assert thread is not None and thread.daemon and thread.is_alive()
    assert libc.options == [(heap.M_ARENA_MAX, 2)]
    assert libc.trimmed.wait(timeout=10)


def test_off_when_asked_or_without_glibc(monkeypatch):
    libc = FakeLibc()
    monkeypatch.setattr(heap, "_glibc", lambda: libc)
    assert heap.heap_keep_flat(arenas=2, trim_seconds=0) is None
    assert libc.options == []
    monkeypatch.setattr(heap, "_glibc", lambda: None)
    assert heap.heap_keep_flat(arenas=2, trim_seconds=30) is None


def test_this_machine_has_what_the_server_calls():
    libc = heap._glibc()
    assert libc is not None  # the servers run on glibc: the upkeep is really on there
    assert libc.malloc_trim(0) in (0, 1)
