"""A recommender that reads items and users through a language model.

    tamellm recommend build --interactions ratings.csv --items movies.csv --output rec/
    tamellm recommend for rec/ --user 42 -k 10 --json
    tamellm recommend for rec/ --text "space operas and 90s thrillers" --json
    tamellm recommend eval --interactions ratings.csv --items movies.csv --json

    >>> from tamellm.apps.recommend import Recommender
    >>> Recommender.load("rec/").recommend(user="42", k=10).to_dict()

Candidates come from several sources fused by weights chosen on each user's latest
events: popularity, item-item kNN and ALS (``implicit``), and content (item texts embedded
by an encoder, ``minilm-l6`` by default; a user profile from the texts of what they chose,
or from a sentence). Items with only a text borrow the collaborative scores of their
nearest items by text, so they are recommendable at once. An optional language-model
ranker (a fine-tuned encoder reading the user's recent history and a candidate's text)
re-scores the fused candidates. Every recommendation carries its reasons.
"""

from tamellm.apps.recommend.build import BuildResult, build_recommender
from tamellm.apps.recommend.data import read_interactions, read_items
from tamellm.apps.recommend.evaluation import evaluate
from tamellm.apps.recommend.recommender import Recommendation, Recommendations, Recommender

__all__ = ["BuildResult", "Recommendation", "Recommendations", "Recommender", "build_recommender", "evaluate",
           "read_interactions", "read_items"]
