"""Length-grouped seeded batches, rank sharding, dynamic padding and the atomic checkpoint fallback."""

from __future__ import annotations

import torch

from tamellm.training.checkpoint import find_checkpoint, save_checkpoint
from tamellm.training.collate import IGNORE_INDEX, collate
from tamellm.training.sampler import epoch_batches


def test_batches_cover_every_example_once_and_group_lengths():
    lengths = [(i * 37) % 50 + 1 for i in range(400)]
    batches = epoch_batches(lengths, 8, seed=1, epoch=0)
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(400))
    spread = sum(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches) / len(batches)
    assert spread < 10  # random batches of 8 would span ~40 tokens
    assert epoch_batches(lengths, 8, seed=1, epoch=0) == batches
    assert epoch_batches(lengths, 8, seed=1, epoch=1) != batches


def test_ranks_take_disjoint_batches_in_step():
    lengths = list(range(1, 101))
    rank0 = epoch_batches(lengths, 8, seed=0, epoch=0, rank=0, world_size=2)
    rank1 = epoch_batches(lengths, 8, seed=0, epoch=0, rank=1, world_size=2)
    assert len(rank0) == len(rank1) == 6  # 13 batches cut to 12 so that both ranks step together
    assert not {i for b in rank0 for i in b} & {i for b in rank1 for i in b}


def test_collate_pads_inputs_and_sequence_labels():
    examples = [{"input_ids": [5, 6, 7], "attention_mask": [1, 1, 1], "labels": [1, IGNORE_INDEX, 2]},
                {"input_ids": [5], "attention_mask": [1], "labels": [0]}]
    batch = collate(examples, pad_id=9, sequence_labels=True)
    assert batch["input_ids"].tolist() == [[5, 6, 7], [5, 9, 9]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["labels"].tolist() == [[1, IGNORE_INDEX, 2], [0, IGNORE_INDEX, IGNORE_INDEX]]
    scalar = collate([{"input_ids": [1], "labels": 1}, {"input_ids": [1, 2], "labels": 0}], 0, False)
    assert scalar["labels"].tolist() == [1, 0]
    multi = collate([{"input_ids": [1], "labels": [1.0, 0.0]}], 0, False)
    assert multi["labels"].dtype == torch.float


def test_a_kill_between_renames_leaves_the_previous_checkpoint(tmp_path):
    model = torch.nn.Linear(2, 2)
    optimizer = torch.optim.AdamW(model.parameters())
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1.0)
    last = tmp_path / "last"
    save_checkpoint(last, model, optimizer, scheduler, {"step": 1})
    # What a kill after "rename last to last.old" and before "rename tmp to last" leaves behind:
    last.rename(tmp_path / "last.old")
    (tmp_path / "last.tmp").mkdir()
    assert find_checkpoint(last) == tmp_path / "last.old"
    save_checkpoint(last, model, optimizer, scheduler, {"step": 2})
    assert find_checkpoint(last) == last and not (tmp_path / "last.old").exists()
