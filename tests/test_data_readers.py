"""Tabular readers: formats, encodings and the errors a user sees for bad files."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tamellm.data import read_table, register_reader, row_numbers, supported_suffixes
from tamellm.data.readers import get_reader
from tamellm.errors import DataError


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def test_csv_keeps_text_as_written_and_marks_rows(tmp_path):
    p = write(tmp_path / "reviews.csv", 'text,label\n"great, really",pos\nNA,neg\n"said ""hi""",pos\n')
    df = read_table(p)
    assert list(df.columns) == ["text", "label"]
    assert df["text"].tolist() == [
        "great, really",
        "NA",
        'said "hi"',
    ]  # "NA" is a review, not a missing value
    assert df.attrs["tamellm"] == {"source": str(p), "first_row": 2, "row_unit": "row"}
    assert row_numbers(df, [0, 2]) == ("row", [2, 4])  # the header is row 1, as in a spreadsheet


def test_tsv_reads_quotes_literally(tmp_path):
    p = write(tmp_path / "sst.tsv", 'sentence\tlabel\nhe said "great \t1\n"odd" quote "\t0\n')
    df = read_table(p)
    assert df["sentence"].tolist() == ['he said "great ', '"odd" quote "']
    assert df["label"].tolist() == [1, 0]


def test_semicolon_csv_is_detected(tmp_path):
    p = write(tmp_path / "excel.csv", "text;label\nbonjour;fr\nhello;en\n")
    assert read_table(p)["label"].tolist() == ["fr", "en"]


def test_utf8_bom_is_accepted(tmp_path):
    p = tmp_path / "bom.csv"
    p.write_bytes(b"\xef\xbb\xbftext,label\ncaf\xc3\xa9,a\n")
    df = read_table(p)
    assert list(df.columns) == ["text", "label"]
    assert df["text"][0] == "café"


def test_latin1_file_names_file_offset_and_fix(tmp_path):
    p = write(tmp_path / "old.csv", "text,label\ncafé,a\n", encoding="latin-1")
    with pytest.raises(DataError) as err:
        read_table(p)
    msg = str(err.value)
    assert "old.csv" in err.value.message
    assert "byte offset 14" in err.value.message and "line 2" in err.value.message
    assert "UTF-8" in err.value.hint and "encoding='latin-1'" in err.value.hint
    assert "0xe9" in msg
    assert read_table(p, encoding="latin-1")["text"][0] == "café"


def test_utf16_file_gets_a_specific_hint(tmp_path):
    p = write(tmp_path / "wide.csv", "\ufefftext,label\nhi,a\n", encoding="utf-16-le")
    with pytest.raises(DataError) as err:
        read_table(p)
    assert "UTF-16" in err.value.hint
    assert read_table(p, encoding="utf-16")["text"][0] == "hi"


def test_unknown_encoding_name(tmp_path):
    p = write(tmp_path / "a.csv", "text\nhi\n")
    with pytest.raises(DataError, match="unknown text encoding 'latin-9'"):
        read_table(p, encoding="latin-9")


def test_jsonl_with_lists_and_line_numbers(tmp_path):
    lines = [{"text": "a", "labels": ["x", "y"]}, {"text": "b", "labels": ["y"]}]
    p = write(tmp_path / "d.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n")
    df = read_table(p)
    assert df["labels"].tolist() == [["x", "y"], ["y"]]
    assert row_numbers(df, [1]) == ("line", [2])


def test_jsonl_malformed_line_is_named(tmp_path):
    p = write(tmp_path / "bad.jsonl", '{"text": "a"}\n\n{"text": "b",}\n')
    with pytest.raises(DataError) as err:
        read_table(p)
    assert "bad.jsonl line 3" in err.value.message
    assert "not valid JSON" in err.value.message


def test_jsonl_line_that_is_not_an_object(tmp_path):
    p = write(tmp_path / "list.jsonl", '{"text": "a"}\n[1, 2]\n')
    with pytest.raises(DataError, match="line 2: expected a JSON object, found list"):
        read_table(p)


def test_json_array_object_wrapper_and_jsonl_in_disguise(tmp_path):
    rows = [{"text": "a", "label": 1}, {"text": "b", "label": 0}]
    assert read_table(write(tmp_path / "a.json", json.dumps(rows)))["label"].tolist() == [1, 0]
    wrapped = read_table(write(tmp_path / "w.json", json.dumps({"data": rows})))
    assert wrapped["text"].tolist() == ["a", "b"]
    disguised = read_table(write(tmp_path / "l.json", "\n".join(map(json.dumps, rows))))
    assert len(disguised) == 2
    with pytest.raises(DataError, match="item 2: expected a JSON object"):
        read_table(write(tmp_path / "s.json", '[{"text": "a"}, "b"]'))
    with pytest.raises(DataError, match="line 1: not valid JSON"):
        read_table(write(tmp_path / "broken.json", '[{"text": "a"'))


def test_parquet_roundtrip(tmp_path):
    p = tmp_path / "d.parquet"
    pd.DataFrame({"text": ["a", "b", "c"], "label": [0, 1, 0]}).to_parquet(p)
    df = read_table(p)
    assert df["label"].tolist() == [0, 1, 0]
    assert row_numbers(df, [0]) == ("record", [1])


def test_bad_parquet_file(tmp_path):
    with pytest.raises(DataError, match="not a readable Parquet file"):
        read_table(write(tmp_path / "x.parquet", "not parquet"))


def test_missing_file_suggests_a_neighbour(tmp_path):
    write(tmp_path / "reviews.csv", "text\nhi\n")
    with pytest.raises(DataError) as err:
        read_table(tmp_path / "review.csv")
    assert "not found" in err.value.message and "review.csv" in err.value.message
    assert "reviews.csv" in err.value.hint


def test_folder_empty_blank_and_header_only_files(tmp_path):
    (tmp_path / "sub.csv").mkdir()
    with pytest.raises(DataError, match="is a folder"):
        read_table(tmp_path / "sub.csv")
    with pytest.raises(DataError, match="is empty"):
        read_table(write(tmp_path / "empty.csv", ""))
    with pytest.raises(DataError, match="is empty"):
        read_table(write(tmp_path / "blank.jsonl", "\n  \n"))
    with pytest.raises(DataError, match="header but no rows") as err:
        read_table(write(tmp_path / "head.csv", "text,label\n"))
    assert "head.csv" in err.value.message


def test_unknown_suffix_lists_accepted_ones(tmp_path):
    p = write(tmp_path / "data.cvs", "text\nhi\n")
    with pytest.raises(DataError) as err:
        read_table(p)
    assert "'.cvs'" in err.value.message
    for suffix in (".csv", ".tsv", ".jsonl", ".json", ".parquet"):
        assert suffix in err.value.hint
    assert "Did you mean '.csv'?" in err.value.hint


def test_ragged_csv_names_the_line(tmp_path):
    p = write(tmp_path / "ragged.csv", "text,label\na,1\nb,1,extra\n")
    with pytest.raises(DataError) as err:
        read_table(p)
    assert "ragged.csv" in err.value.message and "line 3" in err.value.message
    assert "quote" in err.value.hint


def test_named_columns_must_exist(tmp_path):
    p = write(tmp_path / "d.csv", "sentence,label\nhi,1\n")
    assert len(read_table(p, text_column="sentence", label_column="label")) == 1
    with pytest.raises(DataError) as err:
        read_table(p, text_column="sentnce")
    assert "text column 'sentnce' not found in" in err.value.message and "d.csv" in err.value.message
    assert "'sentence', 'label'" in err.value.hint and "Did you mean 'sentence'?" in err.value.hint


def test_whole_number_column_with_a_gap_stays_integer(tmp_path):
    df = read_table(write(tmp_path / "gap.csv", "text,label\na,1\nb,\nc,0\n"))
    assert str(df["label"].dtype) == "Int64"
    assert df["label"].tolist()[0] == 1 and df["label"].isna().sum() == 1


def test_register_a_new_reader(tmp_path):
    @register_reader(".lines")
    def read_lines(path, encoding):
        return pd.DataFrame({"text": path.read_text(encoding=encoding or "utf-8").splitlines()})

    try:
        assert ".lines" in supported_suffixes()
        assert read_table(write(tmp_path / "a.lines", "one\ntwo\n"))["text"].tolist() == ["one", "two"]
    finally:
        from tamellm.data import readers

        readers.TABLE_READERS.unregister(".lines")
    with pytest.raises(DataError):
        get_reader("x.lines")
