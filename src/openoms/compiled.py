"""The hot path compiled to C with mypyc, and the guard that runs the sources when it is stale.

The promise and the optimizer spend their time in plain Python code: the search, the carriers'
cost model, the profile filters, the calendars. mypyc (part of mypy, which already checks these
modules strictly) compiles them, unchanged, to C extensions that sit beside their sources:
`make install` builds them (`make compiled`: `compiled.main()`), and Python imports an extension
before a source of the same name. The promise takes about a third less CPU, the optimizer about
two fifths (docs/benchmarks.md).

The compiled modules call one another directly, so they are used all together or not at all:
at import, `guard()` compares each source with the digest the build recorded, and when any
differs (a source edited since `make install`), or `OMS_PURE_PYTHON=1` is set, every listed
module is imported from its source instead, with a warning in the first case. A checkout
without a build (a wheel, a plain `pip install`) simply runs the sources.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
import warnings
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from types import ModuleType

MODULES = (
    "openoms.domain.availability",
    "openoms.domain.calendars",
    "openoms.domain.carriers",
    "openoms.domain.network",
    "openoms.domain.pricing",
    "openoms.domain.profiles.calendar",
    "openoms.domain.profiles.filters",
    "openoms.domain.profiles.model",
    "openoms.domain.profiles.versions",
    "openoms.domain.shipping",
    "openoms.domain.shipping_costs",
    "openoms.domain.sourcing.assign",
    "openoms.domain.sourcing.model",
    "openoms.domain.sourcing.plans",
    "openoms.domain.sourcing.search",
    "openoms.domain.sourcing.space",
    "openoms.services.promise",
    "openoms.services.sourcing",
    "openoms.services.sourcing_view",
)
"""Compiled together (one mypyc group): every module the promise spends its time in."""

GROUP = "openoms"
"""The group's shared library is `openoms__mypyc.*.so`, beside the `openoms` package."""

PACKAGE = Path(__file__).resolve().parent
SOURCES = PACKAGE.parent
MANIFEST = PACKAGE / "compiled.json"
PURE_PYTHON = "OMS_PURE_PYTHON"


class State(StrEnum):
    COMPILED = "compiled"
    """The extensions are in use."""
    ABSENT = "absent"
    """No build: the sources run."""
    STALE = "stale"
    """A source changed since the build: the sources run (`make install` rebuilds)."""
    DISABLED = "disabled"
    """`OMS_PURE_PYTHON=1`: the sources run."""


def source_of(module: str) -> Path:
    return SOURCES.joinpath(*module.split(".")).with_suffix(".py")


def digests(modules: Sequence[str] = MODULES) -> dict[str, str]:
    return {m: hashlib.sha256(source_of(m).read_bytes()).hexdigest() for m in modules}


def _built(module: str) -> bool:
    source = source_of(module)
    return any(
        source.with_name(source.stem + suffix).exists()
        for suffix in importlib.machinery.EXTENSION_SUFFIXES
    )


def state() -> State:
    """What `guard` finds: whether the compiled modules can be used."""
    if os.environ.get(PURE_PYTHON, "") not in ("", "0"):
        return State.DISABLED
    built = [m for m in MODULES if _built(m)]
    if not built and not MANIFEST.exists():
        return State.ABSENT
    if len(built) < len(MODULES) or not MANIFEST.exists():
        return State.STALE
    try:
        recorded = json.loads(MANIFEST.read_text())
    except (OSError, ValueError):
        return State.STALE
    return State.COMPILED if recorded == digests() else State.STALE


class _Sources(importlib.abc.MetaPathFinder):
    """Imports the listed modules from their `.py` files, ahead of the extensions."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MODULES:
            return None
        return importlib.util.spec_from_file_location(fullname, source_of(fullname))


_found: list[State] = []
"""What `guard` found, once it ran."""


def guard() -> State:
    """Called once, when `openoms` is imported, before any listed module is."""
    if not _found:
        _found.append(state())
        if _found[0] is State.STALE:
            warnings.warn(
                "the compiled hot path is older than its sources; running the sources"
                " (`make install` compiles it again)",
                RuntimeWarning,
                stacklevel=2,
            )
        if _found[0] is not State.COMPILED and _found[0] is not State.ABSENT:
            sys.meta_path.insert(0, _Sources())
    return _found[0]


def build() -> None:
    """Compile `MODULES` in place (beside their sources) and record the sources' digests."""
    # Dev dependencies, which only the build needs: not imported with the package.
    from mypyc.build import mypycify  # noqa: PLC0415
    from setuptools import setup  # noqa: PLC0415

    MANIFEST.unlink(missing_ok=True)
    for leftover in SOURCES.rglob("*__mypyc*"):
        leftover.unlink()
    for extension in PACKAGE.rglob("*.so"):
        extension.unlink()  # those of modules no longer listed, too
    work = SOURCES.parent / "build" / "mypyc"
    paths = [str(source_of(m).relative_to(SOURCES)) for m in MODULES]
    recorded = digests()
    previous = Path.cwd()
    os.chdir(SOURCES)
    try:
        setup(
            name="openoms-compiled",
            ext_modules=mypycify(paths, opt_level="3", group_name=GROUP, target_dir=str(work)),
            script_args=[
                "--quiet",
                "build_ext",
                "--inplace",
                "--build-temp",
                str(work / "temp"),
                "--build-lib",
                str(work / "lib"),
            ],
        )
    finally:
        os.chdir(previous)
    MANIFEST.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")


def main() -> None:
    """`make compiled` (not `python -m`: the package imports this module first, to guard)."""
    build()
    print(f"openoms: {len(MODULES)} modules compiled with mypyc")
