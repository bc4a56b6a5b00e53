"""The data layer: read files, find the text and label columns, validate, split, balance.

Typical use::

    from tamellm.data import load_splits, validate

    splits = load_splits("reviews.csv")          # reads, infers columns, splits
    report = validate(splits, splits.columns)    # issues with rows and fixes
    report.raise_for_errors()
"""

from tamellm.data.balance import class_weights, oversample
from tamellm.data.clean import dedupe, drop_empty, remove_leakage
from tamellm.data.columns import ColumnChoice, infer_columns, require_column, split_labels
from tamellm.data.files import read_text
from tamellm.data.labels import LabelMap
from tamellm.data.lengths import choose_max_length
from tamellm.data.ner import read_conll, read_ner, register_ner_reader, spans_to_iob2, tokenize
from tamellm.data.readers import read_table, register_reader, row_numbers, supported_suffixes
from tamellm.data.report import Issue, ValidationReport
from tamellm.data.schemas import DATA_SCHEMAS, DataSchema, prompt_response_columns
from tamellm.data.splits import Splits, load_splits, split
from tamellm.data.validate import validate

__all__ = [
    "DATA_SCHEMAS",
    "DataSchema",
    "prompt_response_columns",
    "ColumnChoice",
    "Issue",
    "LabelMap",
    "Splits",
    "ValidationReport",
    "choose_max_length",
    "class_weights",
    "dedupe",
    "drop_empty",
    "infer_columns",
    "load_splits",
    "oversample",
    "read_conll",
    "read_ner",
    "read_table",
    "read_text",
    "register_ner_reader",
    "register_reader",
    "remove_leakage",
    "require_column",
    "row_numbers",
    "spans_to_iob2",
    "split",
    "split_labels",
    "supported_suffixes",
    "tokenize",
    "validate",
]
