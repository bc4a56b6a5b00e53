"""Length-sorted batching: every item once, bounded batches, results back in input order."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tamellm.batching import length_sorted_batches, run_batched

lengths_st = st.lists(st.integers(min_value=0, max_value=500), max_size=60)
batch_size_st = st.integers(min_value=1, max_value=17)


@given(lengths=lengths_st, batch_size=batch_size_st)
def test_every_index_exactly_once_in_bounded_batches(lengths, batch_size):
    batches = list(length_sorted_batches(lengths, batch_size))
    flat = [i for batch in batches for i in batch]
    assert sorted(flat) == list(range(len(lengths)))
    assert all(1 <= len(b) <= batch_size for b in batches)
    assert all(len(b) == batch_size for b in batches[:-1])  # only the last batch is short
    assert len(batches) == -(-len(lengths) // batch_size)
    # Longest first, so each batch holds texts of similar length.
    assert [lengths[i] for i in flat] == sorted(lengths, reverse=True)


@given(items=st.lists(st.text(max_size=30), max_size=50), batch_size=batch_size_st)
def test_run_batched_restores_input_order(items, batch_size):
    seen: list[list[str]] = []

    def fn(batch: list[str]) -> list[tuple[int, str]]:
        seen.append(batch)
        return [(len(x), x[::-1]) for x in batch]

    assert run_batched(items, batch_size, fn) == [(len(x), x[::-1]) for x in items]
    assert all(1 <= len(b) <= batch_size for b in seen)
    assert sorted(x for b in seen for x in b) == sorted(items)


def test_run_batched_with_a_custom_length():
    calls = []

    def fn(batch):
        calls.append(batch)
        return [x.upper() for x in batch]

    out = run_batched(["bb", "a", "cccc", "ddd"], 2, fn, length=lambda x: -len(x))
    assert out == ["BB", "A", "CCCC", "DDD"]
    assert calls == [["a", "bb"], ["ddd", "cccc"]]


def test_run_batched_refuses_a_wrong_number_of_outputs():
    with pytest.raises(ValueError):
        run_batched(["a", "b"], 2, lambda batch: batch[:1])


@pytest.mark.parametrize("batch_size", [0, -3])
def test_batch_size_must_be_positive(batch_size):
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        list(length_sorted_batches([1, 2], batch_size))
