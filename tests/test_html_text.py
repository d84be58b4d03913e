"""The fast text beside trafilatura (pipeline/html_text.py): deep trees are refused quickly, shallow ones read."""
from __future__ import annotations

import signal

import pytest

from pipeline.html_text import MAX_TREE_DEPTH, fast_texts


def nested(depth: int, text: str = "Deep words of the page sit here.") -> str:
    # <html><body> are two levels above the first div
    return "<html><body>" + "<div>" * depth + f"<p>{text}</p>" + "</div>" * depth + "</body></html>"


@pytest.fixture
def alarm():
    """Fail (not hang) when resiliparse's main-content pass runs away: it takes hours at 100,000 levels."""
    def expire(signum, frame):
        raise TimeoutError("fast_texts did not return within 60 s")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_shallow_page_gives_visible_and_main_text():
    visible, main = fast_texts(nested(20), visible=True, main=True)
    assert visible.strip() == "Deep words of the page sit here."
    assert main.strip() == "Deep words of the page sit here."


def test_depth_limit_is_exact():
    # the <p> is at depth (html=1, body=2, divs, p): depth divs + 3; the selector matches at MAX_TREE_DEPTH
    assert fast_texts(nested(MAX_TREE_DEPTH - 4), visible=False, main=True) is not None
    assert fast_texts(nested(MAX_TREE_DEPTH - 3), visible=False, main=True) is None


def test_hundred_thousand_levels_is_refused_fast(alarm):
    assert fast_texts(nested(100_000), visible=True, main=True) is None
