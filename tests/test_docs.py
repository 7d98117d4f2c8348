"""The docs a newcomer reads name what exists: files of the package, no folder outside the repository,
no work left marked TODO."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
DOCS = sorted([ROOT / "README.md", ROOT / "BENCHMARKS.md", *(ROOT / "docs").glob("*.md")])


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_paths_named_in_the_docs_exist(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    named = set(re.findall(r"(?<![\w/.])(parcours/[\w/]+\.(?:py|toml)|(?:tests|benchmarks)/\w+\.py)\b", text))
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert not missing, f"{doc.name} names files that do not exist: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_no_todo_and_no_folder_outside_the_repository(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    assert "TODO" not in text, f"{doc.name} still has a TODO"
    outside = re.findall(r"(?:/work/|/home/|\.\./shared)\S*", text)
    assert not outside, f"{doc.name} names folders outside the repository: {outside}"
