"""The recommender as users run it: `tamellm recommend build/for/eval` in new processes and the Python API.

The data are small and made here: three groups of users (space, romance, horror) who mostly
pick items of their genre, in time order, plus items that have only a text.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tamellm.apps.recommend import Recommender, build_recommender, read_interactions, read_items
from tamellm.apps.recommend.dataset import Events, rating_weights, temporal_split
from tamellm.apps.recommend.fusion import ranking_metrics, top_k
from tamellm.errors import DataError, InputError

GENRES = {
    "space": ["space opera with starships and alien empires", "astronauts stranded on a distant planet",
              "galactic war between rebel pilots and an evil empire", "first contact with aliens on a space station",
              "a starship crew explores a wormhole", "robots and androids on a mining colony in orbit"],
    "romance": ["two strangers fall in love in Paris", "a wedding planner falls for the groom",
                "childhood sweethearts meet again after twenty years", "a love letter lost for decades",
                "a romantic comedy about a dating app", "lovers separated by war write to each other"],
    "horror": ["a haunted house with a ghost in the attic", "a zombie outbreak in a small town",
               "a serial killer stalks teenagers at a summer camp", "a demon possesses a young girl",
               "vampires hunt at night in a remote village", "a cursed videotape kills whoever watches it"],
}
NEW_ITEMS = {"new-space": ("Star Voyagers", "space opera: a starship fleet fights an alien empire across the galaxy"),
             "new-love": ("Paris Hearts", "romance: two strangers fall in love on a summer trip")}
USERS_PER_GENRE = 8


def make_data(folder: Path) -> tuple[Path, Path]:
    """ratings.csv (userId, movieId, rating, timestamp) and movies.csv (movieId, title, genres, description)."""
    items, rows = [], []
    ids = {}
    for g, plots in GENRES.items():
        for j, plot in enumerate(plots * 2):  # each plot twice: enough items for a cold-start ranking of 10
            item = f"{g[:3]}{j}"
            ids.setdefault(g, []).append(item)
            items.append((item, f"{g.title()} story {j}", g.title(), plot if j < len(plots) else f"{plot}, the sequel"))
    for item, (title, text) in NEW_ITEMS.items():
        genre, plot = text.split(": ", 1)
        items.append((item, title, genre.title(), plot))
    items.append(("orphan-text", "Cooking with Grandma", "Documentary", "a documentary about baking bread"))
    rng = np.random.default_rng(0)
    t = 1_600_000_000
    for g_index, g in enumerate(GENRES):
        for u in range(USERS_PER_GENRE):
            user = str(100 + g_index * USERS_PER_GENRE + u)
            mine = list(rng.permutation(ids[g]))
            other = [i for h, v in ids.items() if h != g for i in v]
            picks = mine[:5] + [str(rng.choice(other))] + mine[5:9]
            for item in picks:
                t += int(rng.integers(60, 600))
                rows.append((user, item, float(rng.choice([4.0, 4.5, 5.0])), t))
    rows.append(("100", "no-text-item", 3.0, t + 1))  # an item that only the interactions know
    rows.append(("101", "no-text-item", 4.0, t + 2))
    rows.append(rows[0])  # a duplicate interaction
    ratings = folder / "ratings.csv"
    pd.DataFrame(rows, columns=["userId", "movieId", "rating", "timestamp"]).to_csv(ratings, index=False)
    movies = folder / "movies.csv"
    pd.DataFrame(items, columns=["movieId", "title", "genres", "description"]).to_csv(movies, index=False)
    return ratings, movies


def _cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tamellm.cli.main", *args], capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> tuple[Path, Path]:
    return make_data(tmp_path_factory.mktemp("recdata"))


@pytest.fixture(scope="module")
def rec_dir(tmp_path_factory, data) -> Path:
    """Built in this process with the real minilm-l6 (what the text means matters here)."""
    out = tmp_path_factory.mktemp("rec") / "movies"
    result = build_recommender(data[0], data[1], out)
    assert result.report["interactions"]["duplicates_dropped"] == 1
    assert result.report["catalog"]["interacted_items_without_text"] == 1
    return out


def _genre(item: str) -> str:
    return {"spa": "space", "rom": "romance", "hor": "horror"}.get(item[:3], item)


# What users run in a new process


def test_build_for_and_text_user_in_new_processes(tmp_path, data):
    out = tmp_path / "rec"
    built = _cli("recommend", "build", "--interactions", str(data[0]), "--items", str(data[1]), "--output", str(out))
    assert built.returncode == 0, built.stderr
    assert "duplicate" in built.stderr and "no text" in built.stderr  # reported, not fatal
    asked = _cli("recommend", "for", str(out), "--user", "100", "-k", "10", "--json")
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert set(answer) == {"user", "items"} and answer["user"] == "100"
    assert len(answer["items"]) == 10
    assert all(set(i) == {"item", "score", "reasons"} for i in answer["items"])
    assert all(isinstance(i["item"], str) and isinstance(i["score"], float) for i in answer["items"])
    scores = [i["score"] for i in answer["items"]]
    assert scores == sorted(scores, reverse=True)
    seen = set(pd.read_csv(data[0], dtype=str).query("userId == '100'")["movieId"])
    assert not seen & {i["item"] for i in answer["items"]}  # never what they already chose
    # user 100 is a space fan: what is left of the space items comes first
    assert _genre(answer["items"][0]["item"]) == "space" or answer["items"][0]["item"] == "new-space"
    assert all(isinstance(r, dict) and r["text"] for i in answer["items"] for r in i["reasons"])
    assert any(r["type"] == "liked" for r in answer["items"][0]["reasons"])

    texted = _cli("recommend", "for", str(out), "--text", "haunted houses, ghosts and zombies", "-k", "4", "--json")
    assert texted.returncode == 0, texted.stderr
    items = [i["item"] for i in json.loads(texted.stdout)["items"]]
    assert sum(_genre(i) == "horror" for i in items) >= 3, items
    # The same answer through the Python API in this process
    python = Recommender.load(out).recommend(user="100", k=10).to_dict()
    assert [i["item"] for i in python["items"]] == [i["item"] for i in answer["items"]]


def test_eval_prints_every_arm_and_cold_start(data):
    run = _cli("recommend", "eval", "--interactions", str(data[0]), "--items", str(data[1]), "--holdout", "2",
               "--cold-fraction", "0.5", "--json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    arms = {"popularity", "item_knn", "als", "content", "tamellm"}
    assert arms <= set(result["results"]) and arms <= set(result["cold_start"])
    for table in (result["results"], result["cold_start"]):
        for arm in arms:
            assert 0.0 <= table[arm]["recall@10"] <= 1.0 and 0.0 <= table[arm]["ndcg@10"] <= 1.0
    # Genre-pure users: reading the texts finds their held-out items far better than popularity
    assert result["results"]["content"]["ndcg@10"] > result["results"]["popularity"]["ndcg@10"]
    assert result["cold_start"]["tamellm"]["recall@10"] > result["cold_start"]["popularity"]["recall@10"]


def test_unknown_user_gets_popular_items_and_a_note(rec_dir):
    run = _cli("recommend", "for", str(rec_dir), "--user", "nobody", "-k", "3", "--json")
    assert run.returncode == 0, run.stderr
    assert "unknown user 'nobody'" in run.stderr
    answer = json.loads(run.stdout)
    assert answer["user"] == "nobody" and len(answer["items"]) == 3
    assert all(r["type"] == "popular" for i in answer["items"] for r in i["reasons"])


def test_bad_input_is_a_one_line_error(tmp_path, rec_dir):
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_name,product_code_x\n", encoding="utf-8")
    bad.write_text("who,what\nalice,1\n", encoding="utf-8")
    run = _cli("recommend", "build", "--interactions", str(bad), "--items", str(bad), "--output", str(tmp_path / "o"))
    assert run.returncode == 2
    assert run.stderr.strip().splitlines()[0].startswith("error: ") and "user column" in run.stderr
    assert not (tmp_path / "o").exists()  # nothing half-written
    missing = _cli("recommend", "for", str(tmp_path / "nowhere"), "--user", "1")
    assert missing.returncode == 2 and "not found" in missing.stderr


# The Python API


def test_new_item_with_only_text_is_recommended_at_once(rec_dir):
    rec = Recommender.load(rec_dir)
    result = rec.recommend(user="101", k=8)
    items = {r.item: r for r in result.items}
    assert "new-space" in items, [r.item for r in result.items]
    assert any(reason["type"] == "new_item" for reason in items["new-space"].reasons)
    assert "new-love" not in items  # a space fan is not sent the new romance


def test_text_user_reasons_name_words_of_the_item(rec_dir):
    result = Recommender.load(rec_dir).recommend(text="love stories set in Paris", k=3)
    assert result.user == "" and _genre(result.items[0].item) == "romance" or result.items[0].item == "new-love"
    words = [r for r in result.items[0].reasons if r["type"] == "words"]
    assert words and words[0]["words"]


def test_recommend_checks_its_arguments(rec_dir):
    rec = Recommender.load(rec_dir)
    with pytest.raises(InputError, match="k must be"):
        rec.recommend(user="100", k=0)
    with pytest.raises(InputError, match="characters"):
        rec.recommend(text="x" * 5000)
    assert len(rec.recommend(user=100, k=2).items) == 2  # integer ids are read as strings


def test_item_without_text_is_used_collaboratively(rec_dir):
    rec = Recommender.load(rec_dir)
    # user 101 chose 'no-text-item' as did user 100; a user sharing 100's history is offered it
    assert "no-text-item" in rec.model.catalog.index
    scores, _ = rec.model.fused(rec.model.user_query(np.array([rec.model.user_index["100"]])))
    assert np.isfinite(scores).all()


# Pieces


def test_reading_pipe_separated_latin1_files(tmp_path):
    path = tmp_path / "events.txt"
    path.write_bytes("user_id|item_id|stars\nz\xe9lie|a|5\nz\xe9lie|b|3\nbob|a|4\n".encode("latin-1"))
    with pytest.raises(DataError, match="UTF-8|utf-8"):
        read_interactions(path)
    data = read_interactions(path, encoding="latin-1")
    assert data.report["columns"] == {"user": "user_id", "item": "item_id", "rating": "stars", "timestamp": None}
    assert sorted(set(data.users)) == ["bob", "z\xe9lie"]
    items = tmp_path / "items.tsv"
    items.write_text("item\ttitle\ttags\na\tAlien\tspace|horror\nb\tBig\tcomedy\n", encoding="utf-8")
    texts = read_items(items)
    assert texts.texts[0] == "Alien. tags: space, horror"


def test_temporal_split_and_metrics():
    events = Events(["u", "v"], np.array([0, 0, 0, 0, 1, 1]), np.array([0, 1, 2, 3, 0, 1]),
                    rating_weights(None, 6), np.arange(6.0))
    train, test = temporal_split(events, 2)
    assert test.tolist() == [False, False, True, True, False, False]  # v has too few events to hold 2 out
    ranked = top_k(np.array([[0.1, 0.9, 0.5, 0.7]]), 2)
    assert ranked.tolist() == [[1, 3]]
    metrics = ranking_metrics(ranked, [{3}], k=2)
    assert metrics["recall@2"] == 1.0 and metrics["ndcg@2"] == pytest.approx(1 / np.log2(3), abs=1e-4)


# The server


def test_server_lists_and_recommends_over_loopback(rec_dir):
    import socket
    import threading
    import time

    import httpx
    import uvicorn

    import tamellm

    app = tamellm.create_app([], recommender=[f"films={rec_dir}"])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.02)
        listed = httpx.get(url + "/v1/recommend", timeout=30).json()
        assert [r["name"] for r in listed["data"]] == ["films"]
        answer = httpx.post(url + "/v1/recommend/films", json={"user": "100", "text": None, "k": 5}, timeout=60)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        expected = Recommender.load(rec_dir).recommend(user="100", k=5).to_dict()
        assert body["user"] == "100" and [i["item"] for i in body["items"]] == [i["item"] for i in expected["items"]]
        assert all(set(i) == {"item", "score", "reasons"} for i in body["items"])
        texted = httpx.post(url + "/v1/recommend/films", json={"user": None, "text": "zombies and ghosts", "k": 3},
                            timeout=60).json()
        assert sum(_genre(i["item"]) == "horror" for i in texted["items"]) >= 2
        missing = httpx.post(url + "/v1/recommend/books", json={"user": "1", "k": 3}, timeout=30)
        assert missing.status_code == 404 and "films" in missing.json()["error"]["message"]
        bad = httpx.post(url + "/v1/recommend/films", json={"user": "1", "k": 0}, timeout=30)
        assert bad.status_code == 422
    finally:
        server.should_exit = True
        thread.join(30)
