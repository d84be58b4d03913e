"""Input expansion: files, directories, globs, URIs and Common Crawl listings, sorted and unique."""
from __future__ import annotations

import gzip

import pytest

from pipeline.inputs import expand_inputs, open_input


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
