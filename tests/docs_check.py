"""Checks the documentation: README.md has at most 200 lines, and every relative link in README.md and
docs/*.md names a file that exists, without an anchor (headings move; files are what this checks).
Links inside fenced code blocks and inline code are not links. Standard library only.

    python3 tests/docs_check.py        # prints "docs: OK (...)" last, or each problem; exit status 1 then
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
README_MAX_LINES = 200

FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)", re.M)


def links(text):
    text = INLINE_CODE.sub("", FENCE.sub("", text))
    return LINK.findall(text) + REFERENCE.findall(text)


def problems():
    readme = ROOT / "README.md"
    lines = len(readme.read_text(encoding="utf-8").splitlines())
    if lines > README_MAX_LINES:
        yield f"README.md: {lines} lines, more than {README_MAX_LINES}"
    pages = [readme] + sorted((ROOT / "docs").glob("*.md"))
    for page in pages:
        for target in links(page.read_text(encoding="utf-8")):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto:...
                continue
            name = page.relative_to(ROOT)
            if "#" in target:
                yield f"{name}: link {target!r} has an anchor (link to the page)"
                target = target.split("#", 1)[0]
                if not target:
                    continue
            if not (page.parent / target).exists():
                yield f"{name}: link {target!r} names no file"


def main():
    found = list(problems())
    for problem in found:
        print(problem)
    pages = 1 + len(list((ROOT / "docs").glob("*.md")))
    readme_lines = len((ROOT / "README.md").read_text(encoding="utf-8").splitlines())
    if found:
        print(f"docs: {len(found)} problems")
        return 1
    print(f"docs: OK (README.md {readme_lines} lines; links of {pages} pages checked)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
