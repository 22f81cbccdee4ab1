"""Every relative link in the README, the docs pages, the experiments' and the benchmarks'
pages points to a file or folder that exists, and every `#anchor` to a heading of its
target page (GitHub's heading ids). Reads Markdown only: fast."""

import glob
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

LINK = re.compile(r"!?\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^\s*```")


def pages() -> list[str]:
    found = [os.path.join(ROOT, "README.md")]
    found += sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
    found += sorted(glob.glob(os.path.join(ROOT, "experiments", "**", "README.md"), recursive=True))
    found.append(os.path.join(ROOT, "benchmarks", "README.md"))
    return found


def _prose(text: str) -> list[str]:
    """The lines outside code fences, with inline code removed."""
    lines, fenced = [], False
    for line in text.split("\n"):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(re.sub(r"`[^`]*`", "", line))
    return lines


def slug(heading: str) -> str:
    """GitHub's id for a heading: link syntax and code marks dropped, lower case, every
    character but letters, digits, '_', '-' and spaces removed, spaces to '-'."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "")
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(path: str) -> set[str]:
    out, seen = set(), {}
    fenced = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if FENCE.match(line):
                fenced = not fenced
            m = None if fenced else re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
            if m:
                base = slug(m.group(1))
                n = seen.get(base, 0)
                seen[base] = n + 1
                out.add(base if n == 0 else f"{base}-{n}")
    return out


def broken_links(page: str) -> list[str]:
    with open(page, encoding="utf-8") as f:
        text = f.read()
    bad = []
    for line in _prose(text):
        for target in LINK.findall(line):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
                continue
            path, _, anchor = target.partition("#")
            resolved = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
            if not os.path.exists(resolved):
                bad.append(f"{target}: no such file")
            elif anchor and (not resolved.endswith(".md") or anchor not in anchors(resolved)):
                bad.append(f"{target}: no heading with id {anchor!r}")
    return bad


def test_relative_links_resolve():
    checked = pages()
    assert os.path.join(ROOT, "docs", "performance.md") in checked
    bad = {os.path.relpath(p, ROOT): b for p in checked if (b := broken_links(p))}
    assert not bad, bad


def test_the_checker_finds_a_broken_link_and_anchor(tmp_path):
    (tmp_path / "other.md").write_text("# Title\n\n## A heading: with `code`, & more\n")
    page = tmp_path / "page.md"
    page.write_text("[ok](other.md) [ok](other.md#a-heading-with-code--more) [ok](#here)\n"
                    "## Here\n[web](https://example.com) `[not a link](nowhere.md)`\n"
                    "```\n[in code](nowhere.md)\n```\n"
                    "[gone](missing.md) [bad anchor](other.md#nope)\n")
    assert broken_links(str(page)) == ["missing.md: no such file",
                                       "other.md#nope: no heading with id 'nope'"]


def test_the_readme_stays_under_12_kb():
    """What a newcomer reads first stays short; the rest belongs in docs/ (issue 32)."""
    size = os.path.getsize(os.path.join(ROOT, "README.md"))
    assert size <= 12 * 1024, f"README.md is {size:,} bytes: move detail to a docs/ page"
