#!/usr/bin/env python3
"""Builds an English text corpus (JSONL) from Debian packages installed on this machine.

Python 3 standard library only. Called by make-corpus.sh, which installs the packages first.

    python3 corpus.py OUT.jsonl [--max-chars 6000]

Each source is read into paragraphs (markup stripped), short or mostly non-letter paragraphs
are dropped, paragraphs seen before are dropped (exact, then near-exact: same letters and
digits once case, whitespace and punctuation are ignored), and the remaining paragraphs of
one source file are packed in order into documents of at most --max-chars characters
(a longer paragraph is a document alone). Documents are deduplicated the same way. Output:
one {"text": ..., "source": ...} per line, sources in a fixed order, so the same packages
give the same file. Statistics go to stderr and as the last stdout line (JSON).
"""
import argparse
import gzip
import hashlib
import html.parser
import json
import os
import re
import sys

FORTUNES = "/usr/share/games/fortunes"
WORDNET = "/usr/share/wordnet"
PYTHON_DOC = "/usr/share/doc/python3.11/html"
DEBIAN_REFERENCE = "/usr/share/debian-reference"
JARGON = "/usr/share/doc/jargon-text/jargon.txt.gz"

SPACES = re.compile(r"\s+")
OVERSTRIKE = re.compile(r".\x08")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def letters_ratio(text):
    chars = [c for c in text if not c.isspace()]
    return sum(c.isalpha() for c in chars) / max(1, len(chars))


def prose(text, min_words):
    """True for a paragraph that reads as text: enough words, mostly letters."""
    return len(text.split()) >= min_words and letters_ratio(text) >= 0.6


def clean_lines(text):
    """Overstrikes and control characters removed, lines stripped, blank lines dropped."""
    text = CONTROL.sub("", OVERSTRIKE.sub("", text.replace("\r", "")))
    return "\n".join(line.strip() for line in text.split("\n") if line.strip())


# --- sources: each yields (source, unit, [paragraphs]) per file or section ---------------

def fortunes():
    """fortune(6) cookie files: one paragraph per cookie (line breaks kept)."""
    if not os.path.isdir(FORTUNES):
        return
    for name in sorted(os.listdir(FORTUNES)):
        path = os.path.join(FORTUNES, name)
        # Skip index files, the .u8 links to the same files and the ASCII drawings.
        if name.endswith(".dat") or name.endswith(".u8") or os.path.islink(path) or name == "ascii-art":
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            cookies = f.read().split("\n%\n")
        paragraphs = [clean_lines(c) for c in cookies]
        yield "fortunes", name, [p for p in paragraphs if prose(p, 3)]


def wordnet():
    """WordNet 3.0 synsets as 'word, word: gloss' lines, one unit per lexicographer file."""
    # WordNet's lexicographer files (lexnames(5WN)); Debian does not ship the lexnames file.
    lexnames = dict(enumerate(
        "adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute noun.body "
        "noun.cognition noun.communication noun.event noun.feeling noun.food noun.group noun.location "
        "noun.motive noun.object noun.person noun.phenomenon noun.plant noun.possession noun.process "
        "noun.quantity noun.relation noun.shape noun.state noun.substance noun.time verb.body verb.change "
        "verb.cognition verb.communication verb.competition verb.consumption verb.contact verb.creation "
        "verb.emotion verb.motion verb.perception verb.possession verb.social verb.stative verb.weather "
        "adj.ppl".split()))
    units = {}
    for pos in ["noun", "verb", "adj", "adv"]:
        path = os.path.join(WORDNET, "data." + pos)
        if not os.path.exists(path):
            continue
        for line in open(path, encoding="utf-8", errors="replace"):
            if line.startswith("  ") or " | " not in line:
                continue  # licence header
            fields, gloss = line.split(" | ", 1)
            parts = fields.split()
            count = int(parts[3], 16)
            words = [parts[4 + 2 * i] for i in range(count)]
            words = [re.sub(r"\([a-z]+\)$", "", w).replace("_", " ") for w in words]
            unit = lexnames.get(int(parts[1]), pos + "." + parts[1])
            units.setdefault(unit, []).append(", ".join(words) + ": " + gloss.strip())
    for unit in sorted(units):
        yield "wordnet", unit, units[unit]


class TextExtractor(html.parser.HTMLParser):
    """Paragraph text of an HTML page: headings, paragraphs, list items and definitions,
    outside code blocks, tables, scripts, navigation and footers."""

    BLOCKS = {"p", "li", "dd", "dt", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "caption"}
    SKIP = {"pre", "script", "style", "table", "nav", "head", "footer", "header", "code-block"}
    SKIP_CLASSES = {"highlight", "related", "sphinxsidebar", "footer", "navheader", "navfooter", "toc",
                    "sphinxsidebarwrapper", "headerlink", "clearer", "literallayout", "programlisting", "screen"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.paragraphs = []
        self.current = []
        self.stack = []  # (tag, skipping)

    def skipping(self):
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag, attrs):
        if tag in {"br", "img", "hr", "meta", "link", "input", "wbr"}:
            return
        classes = set((dict(attrs).get("class") or "").split())
        skip = self.skipping() or tag in self.SKIP or bool(classes & self.SKIP_CLASSES)
        if tag in self.BLOCKS and not skip:
            self.flush()
        self.stack.append((tag, skip))

    def handle_endtag(self, tag):
        # Pop to the matching tag (HTML in the wild leaves some open).
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                was_skipping = self.stack[i][1]
                del self.stack[i:]
                if tag in self.BLOCKS and not was_skipping:
                    self.flush()
                return

    def handle_data(self, data):
        if not self.skipping():
            self.current.append(data)

    def flush(self):
        text = SPACES.sub(" ", "".join(self.current).replace("\u00b6", "")).strip()
        self.current = []
        if text:
            self.paragraphs.append(text)

    def close(self):
        super().close()
        self.flush()


def html_paragraphs(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        page = f.read()
    # Sphinx pages: the document body only (not the sidebar, search box and navigation).
    start = page.find('role="main"')
    if start >= 0:
        page = page[page.rfind("<", 0, start):]
    x = TextExtractor()
    x.feed(page)
    x.close()
    return [p for p in x.paragraphs if prose(p, 6)]


def python_docs():
    """The Python 3.11 documentation (python3.11-doc), one unit per page."""
    if not os.path.isdir(PYTHON_DOC):
        return
    pages = []
    for root, dirs, files in os.walk(PYTHON_DOC):
        dirs[:] = sorted(d for d in dirs if not d.startswith("_"))
        for name in files:
            if name.endswith(".html"):
                pages.append(os.path.relpath(os.path.join(root, name), PYTHON_DOC))
    skip = re.compile(r"^(genindex.*|py-modindex|search|contents|download|whatsnew/changelog)\.html$")
    for rel in sorted(pages):
        if not skip.match(rel):
            yield "python-doc", rel, html_paragraphs(os.path.join(PYTHON_DOC, rel))


def debian_reference():
    """The Debian Reference (debian-reference-en), one unit per chapter."""
    if not os.path.isdir(DEBIAN_REFERENCE):
        return
    for name in sorted(os.listdir(DEBIAN_REFERENCE)):
        if name.endswith(".en.html") and name != "index.en.html":
            yield "debian-reference", name, html_paragraphs(os.path.join(DEBIAN_REFERENCE, name))


def jargon():
    """The Jargon File 4.4.7 (jargon-text): indented paragraphs joined into lines."""
    if not os.path.exists(JARGON):
        return
    with gzip.open(JARGON, "rt", encoding="utf-8", errors="replace") as f:
        text = f.read()
    blocks = [SPACES.sub(" ", b).strip() for b in re.split(r"\n\s*\n", text)]
    yield "jargon", "jargon.txt", [b for b in blocks if prose(b, 8)]


SOURCES = [fortunes, wordnet, python_docs, debian_reference, jargon]


# --- dedup and packing -------------------------------------------------------------------

def keys(text):
    """Exact and near-exact keys: the text, and its lowercase letters and digits only."""
    exact = hashlib.sha1(text.encode("utf-8")).digest()
    near = hashlib.sha1("".join(c for c in text.lower() if c.isalnum()).encode("utf-8")).digest()
    return exact, near


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out")
    parser.add_argument("--max-chars", type=int, default=6000, help="most characters per document")
    args = parser.parse_args()

    seen_exact, seen_near = set(), set()
    stats = {"documents": 0, "bytes": 0, "paragraphs": 0, "duplicate_paragraphs": 0,
             "near_duplicate_paragraphs": 0, "duplicate_documents": 0, "sources": {}}

    def fresh(text, kind):
        exact, near = keys(text)
        if exact in seen_exact:
            stats["duplicate_" + kind] += 1
            return False
        if near in seen_near:
            stats["near_duplicate_" + kind if kind == "paragraphs" else "duplicate_" + kind] += 1
            return False
        seen_exact.add(exact)
        seen_near.add(near)
        return True

    tmp = args.out + ".part"
    with open(tmp, "w", encoding="utf-8") as out:
        def emit(source, parts):
            text = "\n\n".join(parts)
            if len(text) < 64 or not fresh(text, "documents"):
                return
            line = json.dumps({"text": text, "source": source}, ensure_ascii=False)
            out.write(line + "\n")
            stats["documents"] += 1
            stats["bytes"] += len(text.encode("utf-8"))
            s = stats["sources"].setdefault(source.split(":")[0], {"documents": 0, "bytes": 0})
            s["documents"] += 1
            s["bytes"] += len(text.encode("utf-8"))

        for make in SOURCES:
            for source, unit, paragraphs in make():
                parts, size = [], 0
                for p in paragraphs:
                    if not fresh(p, "paragraphs"):
                        continue
                    stats["paragraphs"] += 1
                    if parts and size + 2 + len(p) > args.max_chars:
                        emit(source + ":" + unit, parts)
                        parts, size = [], 0
                    parts.append(p)
                    size += len(p) + (2 if len(parts) > 1 else 0)
                if parts:
                    emit(source + ":" + unit, parts)
            print(f"corpus: after {make.__name__}: {stats['documents']} documents, {stats['bytes']} bytes",
                  file=sys.stderr)
    os.replace(tmp, args.out)
    print(json.dumps(stats, sort_keys=True))


if __name__ == "__main__":
    main()
