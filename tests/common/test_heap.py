import gc

from common.heap import GEN0_THRESHOLD, settle_after_startup


def test_startup_objects_are_frozen_and_gen0_raised(restored_gc: None) -> None:
    built_at_startup = [{"config": i} for i in range(100)]
    settle_after_startup()
    assert gc.get_freeze_count() >= len(built_at_startup)
    assert gc.get_threshold()[0] == GEN0_THRESHOLD
    # later garbage cycles are still collected
    cycle: list[object] = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1
