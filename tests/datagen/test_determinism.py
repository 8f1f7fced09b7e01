"""Same arguments, same bytes; different seeds, different data; the CLI wraps the generator."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from datagen import generate_province
from pipelines.cli import main


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_arguments_give_identical_bytes(tmp_path: Path) -> None:
    first = generate_province(600, 5, tmp_path / "a", night=date(2025, 10, 1), nights=2)
    second = generate_province(600, 5, tmp_path / "b", night=date(2025, 10, 1), nights=2)
    a, b = _files(first.out_dir), _files(second.out_dir)
    assert a.keys() == b.keys()
    assert any(name.endswith(".xlsx") for name in a)
    for name in a:
        assert a[name] == b[name], name


def test_other_seed_gives_other_data(tmp_path: Path) -> None:
    first = generate_province(300, 1, tmp_path / "a")
    second = generate_province(300, 2, tmp_path / "b")
    assert first.base_path.read_bytes() != second.base_path.read_bytes()


def test_cli_generates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    code = main(["generate", "--people", "300", "--seed", "4", "--out", str(out), "--date", "2025-09-30",
                 "--province", "01"])  # fmt: skip
    assert code == 0
    assert (out / "extracts" / "2025-09-30").is_dir()
    assert "Cơ sở dữ liệu dân cư" in capsys.readouterr().out


def test_cli_rejects_unknown_province(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--people", "300", "--out", str(tmp_path), "--province", "99"]) == 2
    assert "99" in capsys.readouterr().err
