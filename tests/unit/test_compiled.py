"""The compiled hot path: in use when built, and never run when its sources changed since."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from openoms import compiled
from openoms.compiled import MODULES, State


def _imported_from(*, pure: bool) -> str:
    env = {k: v for k, v in os.environ.items() if k != compiled.PURE_PYTHON}
    if pure:
        env[compiled.PURE_PYTHON] = "1"
    code = "import openoms.domain.sourcing.search as s; print(s.__file__)"
    return subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def test_every_module_listed_is_a_source_of_the_package() -> None:
    assert all(compiled.source_of(module).is_file() for module in MODULES)
    assert list(MODULES) == sorted(MODULES)


def test_ci_runs_the_compiled_modules() -> None:
    """`make install` builds them: CI must test what the benchmarks measure (and, in the
    sources' own pass of `make test`, the sources)."""
    found = compiled.state()
    if os.environ.get(compiled.PURE_PYTHON, "") not in ("", "0"):
        assert found is State.DISABLED
        assert _imported_from(pure=True).endswith("search.py")
        return
    in_ci = os.environ.get("CI", "").lower() in ("1", "true")
    if not in_ci and found is not State.COMPILED:
        pytest.skip(f"compiled modules {found.value} here (`make install` builds them)")
    assert found is State.COMPILED
    assert _imported_from(pure=False).endswith(".so")


def test_oms_pure_python_runs_the_sources() -> None:
    assert _imported_from(pure=True).endswith("search.py")


def test_a_source_changed_since_the_build_makes_it_stale(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    manifest = tmp_path / "compiled.json"
    recorded = compiled.digests()
    monkeypatch.setattr(compiled, "MANIFEST", manifest)
    monkeypatch.setattr(compiled, "_built", lambda module: True)
    monkeypatch.delenv(compiled.PURE_PYTHON, raising=False)
    manifest.write_text(json.dumps(recorded))
    assert compiled.state() is State.COMPILED
    manifest.write_text(json.dumps({**recorded, MODULES[0]: "0" * 64}))
    assert compiled.state() is State.STALE
    manifest.write_text("not json")
    assert compiled.state() is State.STALE
    manifest.unlink()
    assert compiled.state() is State.STALE  # extensions without a record of their sources


def test_no_build_at_all_runs_the_sources(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(compiled, "MANIFEST", tmp_path / "compiled.json")
    monkeypatch.setattr(compiled, "_built", lambda module: False)
    monkeypatch.delenv(compiled.PURE_PYTHON, raising=False)
    assert compiled.state() is State.ABSENT


def test_the_finder_answers_for_the_listed_modules_only() -> None:
    finder = compiled._Sources()
    spec = finder.find_spec("openoms.domain.sourcing.search", None)
    assert spec is not None
    assert spec.origin is not None
    assert spec.origin.endswith("search.py")
    assert finder.find_spec("openoms.domain.orders", None) is None
