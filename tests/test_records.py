import math
import os
from dataclasses import FrozenInstanceError

import numpy as np
import pandas as pd
import pytest

from greedy.learning import jax_engine
from greedy.learning.config import TrainConfig
from greedy.learning.mlp import Layer
from greedy.learning.records import COLUMNS, StageRecord, Trained, load_frame, method_parts, save_frame, to_frame


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


@pytest.mark.parametrize(
    ("method", "parts"),
    [
        ("supervised_greedy", ("supervised_greedy", False, "none")),
        ("rbm_greedy+fine_tune", ("rbm_greedy", True, "none")),
        ("end_to_end", ("none", False, "none")),
        ("end_to_end+batch_norm", ("none", False, "batch_norm")),
        ("end_to_end+regularized", ("none", False, "regularized")),
        ("autoencoder_greedy+tied", ("autoencoder_greedy", False, "tied")),  # a suffix after "fine_tune"
    ],
)
def test_a_record_names_its_pretraining_fine_tuning_and_variant_in_columns(method, parts):
    row = to_frame([_rec(method=method)]).iloc[0]
    assert (row.pretraining, row.fine_tuned, row.variant) == parts
    assert method_parts(method) == dict(zip(["pretraining", "fine_tuned", "variant"], parts, strict=True))


def test_every_engine_records_the_settings_each_network_was_trained_with(blob_data):
    config = TrainConfig(n_added_layers=1, epochs=3, head_epochs=2, learning_rate=0.02, optimizer="adam",
                         fine_tune_epochs=4, fine_tune_learning_rate=0.005)  # fmt: skip
    for run in (jax_engine.supervised_greedy, jax_engine.autoencoder_greedy, jax_engine.rbm_greedy):
        rbm = run is jax_engine.rbm_greedy  # contrastive divergence: sigmoid units, SGD with momentum
        settings = config.with_(activation="sigmoid", optimizer="sgd") if rbm else config
        options = {"visible": "gaussian"} if rbm else {}
        df = to_frame(run(blob_data, settings, [0], fine_tune="last", **options))
        assert (
            (df.optimizer == settings.optimizer).all() and (df.learning_rate == 0.02).all() and (df.epochs == 3).all()
        )
        tuned = df.method.str.endswith("+fine_tune")
        assert tuned.sum() == 1 and df.fine_tuned.equals(tuned)
        assert (df[tuned].fine_tune_learning_rate == 0.005).all() and (df[tuned].fine_tune_epochs == 4).all()
        assert df[~tuned].fine_tune_learning_rate.isna().all() and df[~tuned].fine_tune_epochs.isna().all()
    df = to_frame(jax_engine.end_to_end(blob_data, config.with_(epochs=5), [0], depths=[2]))
    assert (df.epochs == 5).all() and df.fine_tune_epochs.isna().all() and (df.pretraining == "none").all()


def test_runs_join_in_order_and_anything_else_is_refused():
    a, b, c = (Trained([_rec(seed=s)]) for s in range(3))
    assert [r.seed for r in Trained.join([a, b, c]).records] == [0, 1, 2]
    with pytest.raises(TypeError):
        a + [_rec()]  # noqa: B018


@pytest.mark.parametrize("name", ["r.bin", "r.txt", "r.abc", "r.zzz"])
def test_only_csv_and_parquet_are_written_or_read(tmp_path, name):
    with pytest.raises(ValueError, match=r"\.csv or \.parquet"):
        save_frame(to_frame([_rec()]), tmp_path / name)
    (tmp_path / name).write_text("seed\n0\n")
    with pytest.raises(ValueError, match=r"\.csv or \.parquet"):
        load_frame(tmp_path / name)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_saved_frame_reads_back_with_its_columns_only_into_new_folders(tmp_path, suffix):
    df = to_frame([_rec(), _rec(seed=1), _rec(seed=2)]).iloc[1:]  # a filtered frame: its index is [1, 2]
    back = load_frame(save_frame(df, tmp_path / "a" / "b" / f"r{suffix}"))
    assert list(back.columns) == COLUMNS and back.index.equals(pd.RangeIndex(2))  # no index written


def test_records_and_runs_are_frozen():
    record, run = _rec(), Trained([_rec()])
    with pytest.raises(FrozenInstanceError):
        record.seed = 3
    with pytest.raises(FrozenInstanceError):
        run.records = []


def test_joined_runs_keep_every_network_and_a_missing_one_is_a_key_error():
    layer = Layer(np.zeros((2, 3)), np.zeros(3), "relu")
    a = Trained([_rec(seed=0)], {"end_to_end": {2: {0: [layer]}}})
    b = Trained([_rec(seed=1)], {"end_to_end": {2: {1: [layer]}, 3: {1: [layer]}}})
    joined = Trained.join([a, b])
    assert {depth: sorted(nets) for depth, nets in joined.networks["end_to_end"].items()} == {2: [0, 1], 3: [1]}
    with pytest.raises(KeyError, match="no network kept"):
        joined.network("end_to_end", 3, 0)
