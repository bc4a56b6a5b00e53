"""Interactions and item texts as index arrays: the catalogue, the user histories, temporal and cold splits."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from tamellm.apps.recommend.data import Interactions, ItemTexts
from tamellm.errors import DataError

# Recent interactions say more about the next one than old ones (temporal split): a history
# item's weight halves every HALF_LIFE interactions back from the user's latest.
HALF_LIFE = 30.0


@dataclass
class Catalog:
    """Every item the recommender knows: those with interactions, those with text, or both."""

    ids: list[str]
    titles: list[str]
    texts: list[str]
    index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index = {item: i for i, item in enumerate(self.ids)}

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_sources(cls, interactions: Interactions, items: ItemTexts) -> tuple[Catalog, dict]:
        """Items of the text files first (in file order), then interacted items that have no text."""
        known = dict.fromkeys(items.ids)
        untexted = [i for i in dict.fromkeys(interactions.items.tolist()) if i not in known]
        ids = list(items.ids) + untexted
        titles = list(items.titles) + untexted
        texts = list(items.texts) + [""] * len(untexted)
        report = {"interacted_items_without_text": len(untexted),
                  "examples_without_text": untexted[:5],
                  "items_with_text_only": len(set(items.ids) - set(interactions.items.tolist()))}
        return cls(ids, titles, texts), report


@dataclass
class Events:
    """Interactions as indices, sorted by user then time: user row, item column, weight, time."""

    users: list[str]
    user_rows: np.ndarray
    item_cols: np.ndarray
    weights: np.ndarray
    times: np.ndarray

    def __len__(self) -> int:
        return len(self.user_rows)

    @classmethod
    def from_interactions(cls, data: Interactions, catalog: Catalog) -> Events:
        users = list(dict.fromkeys(data.users.tolist()))
        uindex = {u: i for i, u in enumerate(users)}
        rows = np.fromiter((uindex[u] for u in data.users), dtype=np.int32, count=len(data))
        cols = np.fromiter((catalog.index[i] for i in data.items), dtype=np.int32, count=len(data))
        return cls(users, rows, cols, rating_weights(data.ratings, len(data)), data.times.astype(np.float64))

    def subset(self, keep: np.ndarray) -> Events:
        """The events where ``keep`` is true (users keep their rows, even with no event left)."""
        return Events(self.users, self.user_rows[keep], self.item_cols[keep], self.weights[keep], self.times[keep])

    def matrix(self, n_items: int, recency: bool = True) -> sparse.csr_matrix:
        """users x items, each cell the event's weight (times a recency decay when ``recency``)."""
        weights = self.weights * (self.recency() if recency else 1.0)
        return sparse.csr_matrix((weights, (self.user_rows, self.item_cols)), shape=(len(self.users), n_items),
                                 dtype=np.float32)

    def recency(self) -> np.ndarray:
        """0.5 ** (how many later events the user has / HALF_LIFE), per event (events are sorted by user, time)."""
        if not len(self):
            return np.zeros(0, dtype=np.float32)
        counts = np.bincount(self.user_rows, minlength=len(self.users))
        ends = np.cumsum(counts)[self.user_rows]
        later = ends - np.arange(len(self)) - 1
        return (0.5 ** (later / HALF_LIFE)).astype(np.float32)

    def history(self, row: int) -> np.ndarray:
        """Item columns of user ``row``, oldest first."""
        return self.item_cols[self.user_rows == row]


def rating_weights(ratings: np.ndarray | None, n: int) -> np.ndarray:
    """1 for implicit feedback; for ratings 0.5 .. 1 from the lowest to the highest rating.

    A low rating still says the user chose the item (what a top-N recommender predicts), so
    it keeps half the weight of a top rating instead of counting against the item.
    """
    if ratings is None:
        return np.ones(n, dtype=np.float32)
    low, high = float(np.min(ratings)), float(np.max(ratings))
    if high <= low:
        return np.ones(n, dtype=np.float32)
    return (0.5 + 0.5 * (ratings - low) / (high - low)).astype(np.float32)


def temporal_split(events: Events, holdout: int) -> tuple[np.ndarray, np.ndarray]:
    """Masks (train, test): each user's last ``holdout`` events are test, when at least as many stay in train."""
    if holdout < 1:
        raise DataError(f"holdout must be at least 1, got {holdout}", "hold out each user's last 1 to 10 events")
    counts = np.bincount(events.user_rows, minlength=len(events.users))
    ends = np.cumsum(counts)[events.user_rows]
    later = ends - np.arange(len(events)) - 1  # events after this one for the same user
    enough = counts[events.user_rows] >= 2 * holdout
    test = (later < holdout) & enough
    return ~test, test


def cold_items(events: Events, fraction: float, seed: int) -> np.ndarray:
    """A seeded sample of ``fraction`` of the interacted item columns: their events leave training."""
    interacted = np.unique(events.item_cols)
    rng = np.random.default_rng(seed)
    n = max(1, int(round(fraction * len(interacted))))
    return np.sort(rng.choice(interacted, size=n, replace=False))
