"""The hostile-markdown corpus rendered by Streamlit in Chromium: the ground truth.

tests/ui/test_hostile_markdown.py parses the sanitiser's output with a CommonMark parser; this
test renders it the way a reviewer sees it (st.markdown of `safe_markdown`, st.caption and a
widget label of `md_escape`) and reads the DOM: no <a>, heading, <img>, icon, colour, math,
list, quote, table, code or emphasis element, and the visible text is the source's words.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, free_port, stop, wait_for_http
from tests.ui.hostile_corpus import CORPUS

SCRIPT = textwrap.dedent(
    """
    import streamlit as st

    from hitl.ui.context import md_escape, safe_markdown
    from tests.ui.hostile_corpus import CORPUS

    for index, (_, text) in enumerate(CORPUS):
        with st.container(key=f"md-{index}"):
            st.markdown(safe_markdown(text))
        with st.container(key=f"caption-{index}"):
            st.caption(md_escape(text))
        with st.container(key=f"label-{index}"):
            st.checkbox(md_escape(text), key=f"box-{index}")
    st.text("CORPUS DRAWN")
    """
)

LIVE = (
    "a, h1, h2, h3, h4, h5, h6, img, [data-testid=stIconMaterial], [data-testid=stIconEmoji], .katex, "
    "ul, ol, li, blockquote, table, pre, code, hr, strong, em, del, s, b, i, u, script, iframe, details, "
    "span[style*=color], span[style*=background]"
)


def _visible(text: str) -> str:
    return " ".join(text.replace("\u2060", "").replace("\u00a0", " ").split())


def _expected(source: str) -> str:
    from hitl.ui.text import visible_controls

    return " ".join(visible_controls(source).split())


@pytest.fixture
def corpus_page(tmp_path: Path, new_page) -> Any:
    script = tmp_path / "corpus_app.py"
    script.write_text(SCRIPT)
    port = free_port()
    log = tmp_path / "streamlit.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env={**__import__("os").environ, "PYTHONPATH": str(ROOT)}, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for_http(f"http://127.0.0.1:{port}/_stcore/health", process, log=log)
        page = new_page()
        page.goto(f"http://localhost:{port}")
        page.get_by_text("CORPUS DRAWN").wait_for(timeout=60_000)
        last = len(CORPUS) - 1
        page.wait_for_function(f"() => document.querySelector('.st-key-label-{last} [data-testid=stMarkdownContainer]')"
                               "?.innerText.trim().length > 0", timeout=30_000)
        page.wait_for_timeout(500)
        yield page
    finally:
        stop(process)


def test_the_corpus_renders_as_plain_text_in_chromium(corpus_page: Any) -> None:
    report = corpus_page.evaluate(
        """([count, live]) => {
            const out = [];
            for (let i = 0; i < count; i++) {
                for (const where of ['md', 'caption', 'label']) {
                    const box = document.querySelector(`.st-key-${where}-${i}`);
                    if (!box) { out.push({i, where, missing: true}); continue; }
                    const content = box.querySelector('[data-testid="stMarkdownContainer"]') || box;
                    const found = [...content.querySelectorAll(live)].map(e => e.tagName.toLowerCase()
                        + (e.getAttribute('data-testid') ? `[${e.getAttribute('data-testid')}]` : '')
                        + (e.getAttribute('href') ? `(${e.getAttribute('href')})` : ''));
                    out.push({i, where, found, text: content.innerText});
                }
            }
            return out;
        }""",
        [len(CORPUS), LIVE],
    )
    problems = []
    for entry in report:
        name, source = CORPUS[entry["i"]]
        if entry.get("missing"):
            problems.append(f"{name} [{entry['where']}]: not drawn")
            continue
        if entry["found"]:
            problems.append(f"{name} [{entry['where']}]: live elements {entry['found']}")
        if _visible(entry["text"]) != _expected(source):
            problems.append(f"{name} [{entry['where']}]: shows {_visible(entry['text'])!r}, not {_expected(source)!r}")
    assert not problems, "\n".join(problems)
    assert len(report) == 3 * len(CORPUS)
    # Hard breaks keep the lines of a multi-line text apart.
    setext = next(i for i, (name, _) in enumerate(CORPUS) if name == "setext heading (=)")
    assert re.fullmatch(r"Approve now\n+===", next(e["text"] for e in report if e["i"] == setext and e["where"] == "md"))
