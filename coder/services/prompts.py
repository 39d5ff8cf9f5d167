"""What a task run asks the model, and how a unified diff is read back out of its answer."""

from __future__ import annotations

import re

from coder.services.context import RepositoryContext

DEBUG_INSTRUCTIONS = """You are Async Coder, an engineer who fixes problems in a git repository.
You are given the task and the relevant files of the repository at the branch to change.
Answer with:
1. One or two sentences saying what was wrong and what you changed (this becomes the summary).
2. Exactly one unified diff in a ```diff fenced block that applies with `git apply` at the
   repository root: `--- a/<path>` and `+++ b/<path>` headers (`/dev/null` for new files), `@@`
   hunk headers, and context lines copied exactly from the files shown. Change only what the task
   needs. Do not include anything after the diff block."""

ASK_INSTRUCTIONS = """You are Async Coder, an engineer who answers questions about a git repository.
You are given the question and the relevant files of the repository. Answer precisely, cite file
paths (and line numbers when useful) from what you were shown, and say so when the files shown do
not contain the answer. Use Markdown."""

DOCUMENTATION_INSTRUCTIONS = """You are Async Coder, a technical writer documenting a git repository.
You are given the request and the relevant files of the repository. Write the documentation asked
for in Markdown: accurate to the code shown, with headings, usage examples where they help, and no
invented APIs."""

INSTRUCTIONS = {"debug": DEBUG_INSTRUCTIONS, "ask": ASK_INSTRUCTIONS, "documentation": DOCUMENTATION_INSTRUCTIONS}


def task_messages(*, task, context: RepositoryContext) -> list[dict[str, str]]:
    """The chat messages of a run: instructions, then the task and the repository's files."""
    parts = [
        f"Repository: {task.repository.full_name} (branch {task.branch})",
        f"Task type: {task.type}",
        f"Title: {task.title}",
    ]
    if task.description:
        parts.append(f"Description:\n{task.description}")
    parts.append(f"Request:\n{task.prompt}")
    listing = "\n".join(context.tree)
    more = context.total_files - len(context.tree)
    parts.append(
        f"Files in the repository ({context.total_files}):\n{listing}" + (f"\n... and {more} more" if more > 0 else "")
    )
    for file in context.files:
        note = " (truncated)" if file.truncated else ""
        fence = fence_for(file.content)
        parts.append(f"File {file.path}{note}:\n{fence}\n{file.content}\n{fence}")
    if not context.files:
        parts.append("No file of the repository matched the request.")
    return [
        {"role": "system", "content": INSTRUCTIONS[task.type]},
        {"role": "user", "content": "\n\n".join(parts)},
    ]


# A fence opens a code block when it starts a line (up to three spaces in) and closes it only at
# the start of a line with the same indentation and at least as many backticks, with nothing
# after them. A diff's lines always start with " ", "+", "-" or "@", so a fence inside a file's
# text (a Markdown file's ``` in a context line) never ends the diff.
_OPENING_FENCE = re.compile(r"(?P<indent> {0,3})(?P<fence>`{3,})(?P<info>[^`]*)")


def _fenced_blocks(answer: str) -> list[tuple[str, str]]:
    """(info string, text) of every fenced code block; an unclosed one runs to the end."""
    blocks: list[tuple[str, str]] = []
    lines = answer.splitlines(keepends=True)
    index = 0
    while index < len(lines):
        opening = _OPENING_FENCE.fullmatch(lines[index].rstrip("\r\n"))
        index += 1
        if opening is None:
            continue
        closing = re.compile(re.escape(opening["indent"]) + f"`{{{len(opening['fence'])},}}[ \t]*")
        body: list[str] = []
        while index < len(lines) and not closing.fullmatch(lines[index].rstrip("\r\n")):
            body.append(lines[index])
            index += 1
        index += 1
        blocks.append((opening["info"].strip().lower(), "".join(body)))
    return blocks


def _looks_like_diff(text: str) -> bool:
    return bool(re.search(r"^--- ", text, re.MULTILINE) and re.search(r"^\+\+\+ ", text, re.MULTILINE)) and "@@" in text


def extract_diff(answer: str) -> str | None:
    """The unified diff in a model's answer (fenced or bare), ending with a newline; None if none."""
    blocks = _fenced_blocks(answer)
    candidates = [text for info, text in blocks if info.startswith(("diff", "patch"))] or [
        text for _, text in blocks if _looks_like_diff(text)
    ]
    if not candidates and _looks_like_diff(answer):
        start = re.search(r"^(diff --git |--- )", answer, re.MULTILINE)
        candidates = [answer[start.start() :]] if start else []
    for candidate in candidates:
        if _looks_like_diff(candidate):
            return candidate.rstrip("\n") + "\n"
    return None


def fence_for(text: str) -> str:
    """A backtick fence longer than any run of backticks in ``text``, so the text cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def summary_of(answer: str, *, limit: int = 280) -> str:
    """The answer's opening sentence(s) before any code block, as a one-line summary."""
    prose = answer.split("```", 1)[0].strip()
    prose = re.sub(r"^\s*(\d+[.)]|[-*#]+)\s*", "", prose, flags=re.MULTILINE)
    line = " ".join(prose.split())
    return line[: limit - 1] + "…" if len(line) > limit else line
