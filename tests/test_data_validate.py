"""Validation: each check, with the file rows, the column and the fix in its message."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tamellm.data import (
    ColumnChoice,
    Splits,
    dedupe,
    drop_empty,
    infer_columns,
    read_table,
    remove_leakage,
    validate,
)
from tamellm.errors import DataError

COLS = ColumnChoice("text", "label", "given", "given")


def csv(tmp_path, name, rows, header="text,label"):
    p = tmp_path / name
    p.write_text(header + "\n" + "\n".join(rows) + "\n")
    return read_table(p)


def balanced_rows(n=6, prefix="review"):
    return [f"{prefix} number {i},{'pos' if i % 2 else 'neg'}" for i in range(n)]


def test_clean_data_has_no_issues(tmp_path):
    report = validate(csv(tmp_path, "ok.csv", balanced_rows()), COLS)
    assert report.ok and report.issues == []
    assert str(report) == "no issues found"
    assert report.stats["classes"] == {"neg": 3, "pos": 3}
    report.raise_for_errors()  # nothing to raise


def test_empty_texts_name_file_rows_and_column(tmp_path):
    df = csv(tmp_path, "r.csv", balanced_rows() + ['"   ",pos', ",neg"])
    report = validate(df, COLS)
    (issue,) = report.by_code("empty_text")
    assert issue.level == "warning" and issue.rows == [8, 9] and issue.column == "text"
    assert issue.message == "2 empty or blank texts in column 'text' of r.csv: rows 8, 9"
    assert "drop_empty" in issue.fix
    assert drop_empty(df, COLS).index.tolist() == list(range(6))


def test_all_texts_empty_is_an_error(tmp_path):
    df = pd.DataFrame({"text": ["", " "], "label": ["a", "b"]})
    assert validate(df, COLS).by_code("empty_text")[0].level == "error"


def test_missing_labels(tmp_path):
    df = csv(tmp_path, "m.csv", balanced_rows() + ["unlabelled one,", "unlabelled two, "])
    (issue,) = validate(df, COLS).by_code("missing_label")
    assert issue.level == "warning" and issue.rows == [8, 9]
    assert "2 rows of m.csv have no label in column 'label': rows 8, 9" == issue.message


def test_single_class_is_an_error_and_raises(tmp_path):
    df = csv(tmp_path, "one.csv", ["a,pos", "b,pos", "c,pos"])
    report = validate(df, COLS)
    (issue,) = report.errors
    assert issue.code == "single_class"
    assert issue.message == "one.csv has only one class in column 'label': 'pos'"
    with pytest.raises(DataError) as err:
        report.raise_for_errors()
    assert "1 error in the data: one.csv has only one class" in err.value.message
    assert "at least two classes" in err.value.hint


def test_rare_classes(tmp_path):
    df = csv(tmp_path, "rare.csv", balanced_rows() + ["odd one,weird", "another,strange"])
    (issue,) = validate(df, COLS).by_code("rare_class")
    assert issue.level == "warning" and issue.count == 2 and issue.rows == [8, 9]
    assert "2 classes in column 'label' of rare.csv have fewer than 2 examples" in issue.message
    assert "'strange' (row 9), 'weird' (row 8)" in issue.message


def test_labels_missing_from_train_are_errors(tmp_path):
    train = csv(tmp_path, "train.csv", balanced_rows())
    dev = csv(tmp_path, "dev.csv", ["fresh text,pos", "new one,meh", "more,meh"])
    report = validate({"train": train, "validation": dev}, COLS)
    (issue,) = report.errors
    assert issue.code == "unseen_label" and issue.split == "validation" and issue.rows == [3, 4]
    assert (
        issue.message
        == "validation (dev.csv) has labels that train lacks in column 'label': 'meh' (rows 3, 4)"
    )


def test_int_labels_against_text_labels_get_a_type_hint():
    train = pd.DataFrame({"text": ["a", "b", "c", "d"], "label": [0, 1, 0, 1]})
    dev = pd.DataFrame({"text": ["e", "f"], "label": ["0", "1"]})
    (issue,) = validate({"train": train, "validation": dev}, COLS).errors
    assert "same type in every file" in issue.fix and "int in train, str in validation" in issue.fix


def test_duplicates_and_dedupe(tmp_path):
    df = csv(
        tmp_path,
        "dup.csv",
        balanced_rows() + ["review number 1,pos", " review number 1 ,pos", "review number 2,neg"],
    )
    (issue,) = validate(df, COLS).by_code("duplicate_text")
    assert issue.level == "warning" and issue.rows == [8, 9, 10] and issue.count == 3
    assert issue.message == "3 rows of dup.csv repeat a text seen earlier in column 'text': rows 8, 9, 10"
    clean = dedupe(df, COLS)
    assert len(clean) == 6 and validate(clean, COLS).issues == []


def test_conflicting_duplicates(tmp_path):
    df = csv(tmp_path, "c.csv", balanced_rows() + ["review number 0,pos"])
    report = validate(df, COLS)
    (issue,) = report.by_code("conflicting_labels")
    assert issue.rows == [2, 8] and issue.count == 1
    assert "'review number 0' is labelled 'neg' (row 2) and 'pos' (row 8)" in issue.message
    assert "drop_conflicting=True" in issue.fix
    kept = dedupe(df, COLS, drop_conflicting=True)
    assert "review number 0" not in kept["text"].tolist() and len(kept) == 5


def test_row_listing_stops_at_five(tmp_path):
    df = csv(tmp_path, "many.csv", balanced_rows() + [",pos"] * 8)
    (issue,) = validate(df, COLS).by_code("empty_text")
    assert issue.message.endswith("rows 8, 9, 10, 11, 12 and 3 more")
    assert issue.rows == list(range(8, 16))


def test_leakage_counts_and_remove_leakage(tmp_path):
    train = csv(tmp_path, "train.csv", balanced_rows(10))
    dev = csv(tmp_path, "dev.csv", ["review number 3,pos", "unseen text,neg", "review number 4 ,neg"])
    test = csv(tmp_path, "test.csv", ["unseen text,neg", "other,pos"])
    splits = Splits(train, dev, test, columns=COLS)
    report = validate(splits)
    leaks = report.by_code("leakage")
    assert [(i.split, i.count, i.rows) for i in leaks] == [("validation", 2, [2, 4]), ("test", 1, [2])]
    assert leaks[0].message == (
        "2 rows of validation (dev.csv) have a text that also appears in train (column 'text'): rows 2, 4"
    )
    assert "1 row of test (test.csv) has a text that also appears in validation" in leaks[1].message
    assert report.stats["leakage"] == {"train/validation": 2, "validation/test": 1}
    fixed = remove_leakage(splits)
    assert fixed.validation["text"].tolist() == ["unseen text"] and fixed.test["text"].tolist() == ["other"]
    assert validate(fixed).by_code("leakage") == []


def test_imbalance_info_and_recommendation(tmp_path):
    rows = [f"good {i},pos" for i in range(12)] + [f"bad {i},neg" for i in range(3)]
    report = validate(csv(tmp_path, "imb.csv", rows), COLS)
    (issue,) = report.infos
    assert issue.code == "imbalance" and report.ok
    assert "class 'pos' has 12 examples, class 'neg' 3 (ratio 4.0:1)" in issue.message
    assert "class_weights" in issue.fix and "oversample" in issue.fix and "macro-F1" in issue.fix
    assert report.stats["imbalance_ratio"] == 4.0
    mild = validate(csv(tmp_path, "mild.csv", rows[:5] + rows[12:]), COLS)
    assert mild.infos[0].fix.startswith("mild imbalance")


def test_missing_column_in_a_split(tmp_path):
    train = csv(tmp_path, "train.csv", balanced_rows())
    dev = csv(tmp_path, "dev.csv", ["x,pos"], header="sentence,label")
    (issue,) = validate({"train": train, "validation": dev}, COLS).errors
    assert issue.code == "missing_column" and issue.message == "validation (dev.csv) has no column 'text'"


def test_multi_label_checks(tmp_path):
    rows = ['"a b c","x|y"', '"d e f","y"', '"g h","x|z"', '"i j","y|x"']
    df = csv(tmp_path, "ml.csv", rows, header="text,labels")
    cols = infer_columns(df)
    assert cols.multi_label
    report = validate(df, cols)
    assert report.stats["classes"] == {"x": 3, "y": 3, "z": 1}
    assert [i.code for i in report.issues] == ["rare_class", "imbalance"]
    assert report.by_code("rare_class")[0].rows == [4]


def test_jsonl_rows_are_line_numbers(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text(
        "\n".join(json.dumps({"text": t, "label": i % 2}) for i, t in enumerate(["a", "b", "", "c"]))
    )
    (issue,) = validate(read_table(p), COLS).by_code("empty_text")
    assert issue.message.endswith("d.jsonl: line 3")


def test_report_serializes_and_infers_columns(tmp_path):
    df = csv(tmp_path, "x.csv", balanced_rows() + [",pos"])
    report = validate(df)  # columns inferred
    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] is True and data["issues"][0]["code"] == "empty_text"
    assert str(report).startswith("warning: 1 empty or blank text")
    with pytest.raises(DataError, match="nothing to validate"):
        validate({})
