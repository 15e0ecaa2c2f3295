"""Builds dedup's compiled kernels (dedup._native, C sources in dedup/native/); the rest is pyproject.toml."""

import sys
from pathlib import Path

from setuptools import Extension, setup

native = Path("dedup/native")
setup(ext_modules=[Extension(
    "dedup._native",
    sources=sorted(str(p) for p in native.glob("*.c")),
    depends=sorted(str(p) for p in native.glob("*.h")),
    extra_compile_args=[] if sys.platform == "win32" else ["-O3", "-std=c11"],
)])
