"""Input expansion: files, directories, globs, URIs and Common Crawl listings, sorted and unique."""
from __future__ import annotations

import gzip
import re

import pytest

from pipeline.inputs import InputError, _local_directory_files, expand_inputs, open_input


@pytest.fixture
def tree(tmp_path):
    for name in ("b.warc.gz", "a.warc.gz", "sub/c.warc", "notes.txt"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    return tmp_path


def test_directory_lists_warc_files_recursively_sorted(tree):
    assert expand_inputs([str(tree)]) == [str(tree / "a.warc.gz"), str(tree / "b.warc.gz"), str(tree / "sub/c.warc")]


def test_glob_and_explicit_file_are_deduplicated(tree):
    assert expand_inputs([str(tree / "*.warc.gz"), str(tree / "a.warc.gz")]) == [
        str(tree / "a.warc.gz"), str(tree / "b.warc.gz")]


def test_file_uri_is_opened_through_pyarrow_without_decompressing(tree):
    uri = f"file://{tree / 'a.warc.gz'}"
    assert expand_inputs([uri]) == [uri]
    with open_input(uri) as stream:
        assert stream.read() == b"x"


def test_cc_listing_joins_entries_to_the_prefix(tmp_path):
    listing = tmp_path / "warc.paths.gz"
    listing.write_bytes(gzip.compress(b"crawl-data/CC-MAIN-2026-08/segments/1/warc/x.warc.gz\ncrawl-data/a.warc.gz\n"))
    assert expand_inputs([str(listing)], "s3://commoncrawl/") == [
        "s3://commoncrawl/crawl-data/CC-MAIN-2026-08/segments/1/warc/x.warc.gz", "s3://commoncrawl/crawl-data/a.warc.gz"]


def test_a_spec_matching_nothing_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="matches no file"):
        expand_inputs([str(tmp_path / "missing-*.warc.gz")])


def test_an_existing_name_with_glob_characters_is_taken_literally(tmp_path):
    (tmp_path / "page[1].warc.gz").write_bytes(b"x")
    (tmp_path / "page1.warc.gz").write_bytes(b"y")  # what the name would match as a glob
    assert expand_inputs([str(tmp_path / "page[1].warc.gz")]) == [str(tmp_path / "page[1].warc.gz")]
    assert expand_inputs([str(tmp_path / "page[0-9].warc.gz")]) == [str(tmp_path / "page1.warc.gz")]


def test_directory_yields_every_supported_kind_and_skips_markers_and_hidden_files(tmp_path):
    kinds = ["a.warc", "b.warc.gz", "c.arc.gz", "d.warc.wet.gz", "e.wet.gz", "f.wet", "g.jsonl", "h.jsonl.gz",
             "i.jsonl.zst", "j.json", "k.parquet"]
    skipped = ["notes.txt", ".hidden.warc.gz", "_SUCCESS", "_config.toml", "l.parquet.tmp-0123abcd",
               "_done/m.json", ".cache/n.jsonl", "_temporary/o.parquet", "p.parquet.crc"]
    for name in kinds + skipped + ["sub/q.jsonl"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    assert expand_inputs([str(tmp_path)]) == sorted(str(tmp_path / name) for name in kinds + ["sub/q.jsonl"])


def test_directory_of_jsonl_only_is_not_empty(tmp_path):
    (tmp_path / "docs.jsonl").write_text('{"id": "1", "text": "x"}\n')
    assert expand_inputs([str(tmp_path)]) == [str(tmp_path / "docs.jsonl")]


def test_symlink_loop_is_read_once_and_linked_files_once(tmp_path):
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "a.warc.gz").write_bytes(b"x")
    (data / "sub" / "b.warc.gz").write_bytes(b"y")
    (data / "sub" / "loop").symlink_to(data)  # data/sub/loop/sub/loop/... forever without the visited set
    (data / "z-link.warc.gz").symlink_to(data / "a.warc.gz")  # the same file under a second name
    assert expand_inputs([str(data)]) == [str(data / "a.warc.gz"), str(data / "sub" / "b.warc.gz")]
    # the walk itself enters each real directory once (not only the final de-duplication by real path)
    assert _local_directory_files(str(data)) == [str(data / "a.warc.gz"), str(data / "z-link.warc.gz"),
                                                 str(data / "sub" / "b.warc.gz")]


def test_symlinked_directory_is_followed(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.warc.gz").write_bytes(b"x")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "link").symlink_to(tmp_path / "real")
    assert expand_inputs([str(tmp_path / "in")]) == [str(tmp_path / "in" / "link" / "a.warc.gz")]


def test_glob_matching_a_directory_yields_its_inputs(tmp_path):
    for name in ("CC-1/a.warc.gz", "CC-2/b.jsonl", "CC-2/_SUCCESS"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    assert expand_inputs([str(tmp_path / "CC-*")]) == [str(tmp_path / "CC-1/a.warc.gz"), str(tmp_path / "CC-2/b.jsonl")]


def test_uri_directory_uses_the_same_rules(tmp_path):
    for name in ("a b/x[1].jsonl", "a b/_SUCCESS", "a b/.y.warc.gz", "a b/z.warc.gz"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    base = f"file://{tmp_path}/a%20b"
    found = expand_inputs([base])
    assert found == [f"{base}/x%5B1%5D.jsonl", f"{base}/z.warc.gz"]  # percent-encoded: each parses back
    with open_input(found[0]) as stream:
        assert stream.read() == b"x"
    assert expand_inputs([f"{base}/x%5B1%5D.*"]) == [found[0]]


@pytest.mark.parametrize("spec", ["missing.warc.gz", "missing-dir/", "nothing-*.warc.gz"])
def test_error_names_the_spec(tmp_path, spec):
    with pytest.raises(InputError, match=f"input '{re.escape(str(tmp_path / spec))}' matches no file"):
        expand_inputs([str(tmp_path / spec)])


def test_an_empty_directory_and_a_missing_listing_are_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "_SUCCESS").write_bytes(b"")
    with pytest.raises(InputError, match="matches no file"):
        expand_inputs([str(tmp_path / "empty")])
    with pytest.raises(InputError, match="warc.paths.gz' cannot be read"):
        expand_inputs([str(tmp_path / "warc.paths.gz")])
