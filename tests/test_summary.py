"""summary(): the table's pieces (compat_tests/test_summary_compat.py checks the whole text
against Keras's)."""

import pytest

import minikeras as keras
from minikeras.utils import summary_utils


def test_readable_memory_size():
    assert summary_utils.readable_memory_size(12) == "12.00 B"
    assert summary_utils.readable_memory_size(1536) == "1.50 KB"
    assert summary_utils.readable_memory_size(3 * 1024 ** 3) == "3.00 GB"


def test_column_widths_shrink_like_rich():
    # Keras asks for 34/26/16 of 76 characters; rich fits them into 72 (borders aside).
    assert summary_utils._column_widths(76, [0.45, 0.8, 1.0], 80) == [33, 24, 15]
    assert summary_utils._column_widths(88, [0.45, 0.8, 1.0], 200) == [38, 29, 17]
    with pytest.raises(ValueError, match="line_length=5"):
        summary_utils._column_widths(5, [0.45, 0.8, 1.0], 80)


def test_long_words_are_cut_with_an_ellipsis():
    assert summary_utils._wrap("a_very_long_name (Dense)", 10) == ["a_very_lo…", "(Dense)"]


def test_summary_counts_thousands_and_unbuilt_layers(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    model = keras.Sequential([keras.Input((100,)), keras.layers.Dense(100)])
    text = summary_utils.summary_text(model)
    assert "10,100" in text and " Total params: 10,100 (39.45 KB)" in text
    unbuilt = summary_utils.summary_text(keras.Sequential([keras.layers.Dense(2)]))
    assert "0 (unbuilt)" in unbuilt and "│ ?" in unbuilt
    assert "Optimizer params" not in text
