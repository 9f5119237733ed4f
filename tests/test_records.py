import math
import os

import pytest

from greedy.learning.records import COLUMNS, StageRecord, load_frame, save_frame, to_frame


def _rec(**kw):
    base = dict(
        method="supervised_greedy",
        depth=2,
        seed=0,
        train_accuracy=0.8,
        test_accuracy=0.82,
        final_loss=0.4,
        wall_seconds=0.1,
        backend="jax",
        engine="jax",
    )
    return StageRecord(**{**base, **kw})


def test_frame_is_tidy():
    df = to_frame([_rec(), _rec(depth=3, status="diverged", diverged_epoch=2, test_accuracy=math.nan)])
    assert list(df.columns) == COLUMNS and len(df) == 2
    assert df.diverged_epoch.isna().tolist() == [True, False]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_save_is_atomic_and_round_trips(tmp_path, suffix):
    df = to_frame([_rec(), _rec(seed=1)])
    path = save_frame(df, tmp_path / f"r{suffix}")
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    back = load_frame(path)
    assert back.seed.tolist() == [0, 1]


def test_save_rejects_unknown_format_and_leaves_nothing(tmp_path):
    with pytest.raises(ValueError, match=r"\.csv or \.parquet"):
        save_frame(to_frame([_rec()]), tmp_path / "r.pkl")
    assert list(tmp_path.iterdir()) == []


def test_saved_frames_get_the_permissions_of_any_new_file(tmp_path):
    umask = os.umask(0o022)
    try:
        path = save_frame(to_frame([_rec()]), tmp_path / "r.csv")
        assert path.stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(umask)
