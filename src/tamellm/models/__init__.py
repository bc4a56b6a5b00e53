"""The model catalog, offline-first resolution and loading."""

from tamellm.models.catalog import CATALOG, ModelSpec, default_model
from tamellm.models.loaders import LoadedModel, load_weights
from tamellm.models.resolve import ResolvedModel, resolve

__all__ = ["CATALOG", "LoadedModel", "ModelSpec", "ResolvedModel", "default_model", "load_weights", "resolve"]
