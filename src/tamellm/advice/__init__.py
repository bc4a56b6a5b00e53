"""Which model, strategy and compression to pick: measured profiles of this machine plus the user's own runs."""

from tamellm.advice.profiles import measured_profiles, profiles_path
from tamellm.advice.recommend import advise, describe, parse_quantity, past_accuracy

__all__ = ["advise", "describe", "measured_profiles", "parse_quantity", "past_accuracy", "profiles_path"]
