"""Choosing the files of a repository that are relevant to a task, within a token budget.

Relevance is lexical and explainable: words of the task (split at camelCase, snake_case and
punctuation) matched against each tracked file's path (weighted high) and content (weighted by
occurrences, with diminishing returns), plus a strong boost for a path the prompt names
outright. Binary, vendored, generated and oversized files are skipped.

The checkout is hostile input: files are read through ``coder.checkout.read_checkout_file``
(regular files inside the checkout only, size-capped), and reading stops with
``RepositoryReadTimeoutError`` once ``CODER_REPOSITORY_READ_TIMEOUT_SECONDS`` have passed.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from pathlib import Path

from coder import conf
from coder.checkout import read_checkout_file
from core.llm.tokens import estimate_tokens

SKIPPED_DIRECTORIES = {
    "node_modules", "vendor", "dist", "build", ".git", "__pycache__", ".venv", "venv", "target", ".next",
    "coverage", ".idea", ".vscode",
}  # fmt: skip
SKIPPED_SUFFIXES = {
    ".png", ".jpg", ".jpeg", ".gif", ".webp", ".ico", ".pdf", ".zip", ".gz", ".tar", ".jar", ".woff", ".woff2",
    ".ttf", ".eot", ".mp3", ".mp4", ".mov", ".so", ".dll", ".exe", ".bin", ".pyc", ".class", ".lock", ".map",
    ".min.js", ".min.css", ".sqlite3", ".db", ".parquet",
}  # fmt: skip
SKIPPED_NAMES = {"package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock", "Cargo.lock", "go.sum"}
STOPWORDS = {
    "the", "and", "for", "with", "this", "that", "from", "into", "what", "when", "where", "which", "how", "why",
    "fix", "bug", "find", "make", "please", "should", "would", "could", "there", "their", "does", "not", "are",
    "was", "were", "has", "have", "all", "any", "can", "add", "use", "using", "code", "file", "files", "function",
    "about", "explain", "write", "update", "change", "documentation", "docs", "issue", "error", "src", "lib", "app",
    "wrong", "broken", "work", "works", "working",
}  # fmt: skip
PATH_WEIGHT = 6.0
NAMED_PATH_BOOST = 100.0
README_BOOST = 3.0
TREE_LISTING_MAX = 300


class RepositoryReadTimeoutError(Exception):
    """Reading the checkout's files took longer than its time limit."""


@dataclass(frozen=True)
class ContextFile:
    path: str
    content: str
    score: float
    truncated: bool = False


@dataclass(frozen=True)
class RepositoryContext:
    files: list[ContextFile]
    tree: list[str]  # every considered path (capped), so the model knows what exists
    total_files: int

    @property
    def tokens(self) -> int:
        return sum(estimate_tokens(file.content) for file in self.files)


def terms_of(text: str) -> set[str]:
    """The lower-cased words of ``text``, split at camelCase and snake_case, stopwords removed."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    words = re.split(r"[^A-Za-z0-9]+", spaced)
    return {word.lower() for word in words if len(word) >= 3 and word.lower() not in STOPWORDS}


def _skipped(path: str) -> bool:
    parts = path.split("/")
    name = parts[-1]
    if any(part in SKIPPED_DIRECTORIES for part in parts[:-1]) or name in SKIPPED_NAMES:
        return True
    lowered = name.lower()
    return any(lowered.endswith(suffix) for suffix in SKIPPED_SUFFIXES)


def _read_text(root: Path, path: str) -> str | None:
    raw = read_checkout_file(root, path, max_bytes=conf.MAX_FILE_BYTES)
    if raw is None or b"\0" in raw[:8192]:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _score(path: str, content: str, terms: set[str], named_paths: set[str], prefer_readme: bool) -> float:
    score = 0.0
    if path in named_paths or any(path.endswith("/" + named) for named in named_paths):
        score += NAMED_PATH_BOOST
    path_terms = terms_of(path)
    score += PATH_WEIGHT * len(terms & path_terms)
    lowered = content.lower()
    for term in terms:
        occurrences = lowered.count(term)
        if occurrences:
            score += 1.0 + math.log(occurrences)
    if prefer_readme and path.lower().split("/")[-1].startswith("readme"):
        score += README_BOOST
    return score


def repository_context(
    *, root: Path, paths: list[str], task_text: str, token_budget: int, whole_files_only: bool
) -> RepositoryContext:
    """The most relevant files of the checkout at ``root`` that fit ``token_budget`` tokens.

    ``whole_files_only`` (for changes: a diff needs every line it touches) skips a file that does
    not fit whole rather than cutting it, unless nothing would be sent at all.
    Raises ``RepositoryReadTimeoutError`` when reading takes longer than ``CODER_REPOSITORY_READ_TIMEOUT_SECONDS``.
    """
    deadline = time.monotonic() + conf.REPOSITORY_READ_TIMEOUT_SECONDS
    considered = [path for path in paths if not _skipped(path)][: conf.MAX_SCANNED_FILES]
    terms = terms_of(task_text)
    named_paths = {match.strip("`'\"()[],:;") for match in re.findall(r"[\w./-]+\.\w+", task_text)}
    prefer_readme = not whole_files_only
    scored: list[ContextFile] = []
    for path in considered:
        if time.monotonic() > deadline:
            limit = conf.REPOSITORY_READ_TIMEOUT_SECONDS
            raise RepositoryReadTimeoutError(f"reading the repository took longer than {limit}s")
        content = _read_text(root, path)
        if content is None:
            continue
        score = _score(path, content, terms, named_paths, prefer_readme)
        if score > 0:
            scored.append(ContextFile(path=path, content=content, score=score))
    scored.sort(key=lambda file: (-file.score, len(file.content), file.path))

    chosen: list[ContextFile] = []
    remaining = token_budget
    for file in scored:
        cost = estimate_tokens(file.content) + estimate_tokens(file.path) + 8
        if cost <= remaining:
            chosen.append(file)
            remaining -= cost
        elif not whole_files_only and remaining > 200:
            keep = (remaining - 50) * 4
            chosen.append(ContextFile(file.path, file.content[:keep], file.score, truncated=True))
            remaining = 0
        if remaining <= 0:
            break
    if not chosen and scored and token_budget > 200:
        top = scored[0]
        chosen.append(ContextFile(top.path, top.content[: (token_budget - 50) * 4], top.score, truncated=True))
    return RepositoryContext(files=chosen, tree=considered[:TREE_LISTING_MAX], total_files=len(considered))
