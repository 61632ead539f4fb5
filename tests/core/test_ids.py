import threading

from annotator.core.ids import ID_LENGTH, is_valid_id, new_id


def test_ids_are_24_hex_and_strictly_increasing_within_a_process():
    # given / when
    ids = [new_id() for _ in range(20_000)]

    # then
    assert all(len(i) == ID_LENGTH and is_valid_id(i) for i in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_ids_stay_unique_and_ordered_across_threads():
    # given
    results: list[list[str]] = [[] for _ in range(4)]

    def make(bucket: list[str]) -> None:
        bucket.extend(new_id() for _ in range(5_000))

    # when
    threads = [threading.Thread(target=make, args=(bucket,)) for bucket in results]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # then: no collisions, and each thread saw increasing ids
    everything = [i for bucket in results for i in bucket]
    assert len(set(everything)) == len(everything)
    assert all(bucket == sorted(bucket) for bucket in results)


def test_is_valid_id_refuses_other_shapes():
    assert not is_valid_id("0" * 23)
    assert not is_valid_id("Z" * 24)
    assert not is_valid_id("0123456789ABCDEF01234567")
    assert not is_valid_id(None)
    assert not is_valid_id(123)
