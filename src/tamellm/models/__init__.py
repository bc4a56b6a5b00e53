"""The model catalog, offline-first resolution and loading."""

from tamellm.models.catalog import CATALOG, ModelSpec, default_model
from tamellm.models.loaders import LOADERS, LoadedModel
from tamellm.models.resolve import ResolvedModel, resolve

__all__ = ["CATALOG", "LOADERS", "LoadedModel", "ModelSpec", "ResolvedModel", "default_model", "resolve"]
