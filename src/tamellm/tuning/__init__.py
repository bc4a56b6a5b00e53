"""AutoTune: search spaces, Optuna locally, Ray Tune on a cluster."""

from tamellm.tuning.autotune import TuneResult, autotune
from tamellm.tuning.search_space import STRATEGY_SPACES, SearchSpace, build_search_space

__all__ = ["STRATEGY_SPACES", "SearchSpace", "TuneResult", "autotune", "build_search_space"]
