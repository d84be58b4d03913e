"""Zip the project's packages for a cluster: `python jobs/package_code.py --output dist/corpus_pipeline.zip`
(`make package`), then `spark-submit --py-files dist/corpus_pipeline.zip jobs/build_corpus.py ...`.

The packages are the ones pyproject.toml installs (`tool.setuptools.packages.find.include`) but `testkit` (the
corpora and writers the tests and benchmarks share: no job imports it), with their data files (filter lists),
without caches. The zip is reproducible: entries in sorted order with a fixed time
stamp and mode, so the same source gives the same bytes (and sha256) on any machine. Python imports
packages from a zip on sys.path (zipimport); data files inside are read with importlib.resources.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold: no build time in the bytes
ZIP_FILE_MODE = 0o644 << 16  # rw-r--r-- in the entry's external attributes
SKIPPED_DIRS = {"__pycache__"}
SKIPPED_PACKAGES = {"testkit"}
SKIPPED_SUFFIXES = {".pyc", ".pyo"}


def project_packages(root: Path = ROOT) -> list[str]:
    """Top-level package names from pyproject.toml's find.include patterns ("pipeline*" -> "pipeline")."""
    with open(root / "pyproject.toml", "rb") as handle:
        patterns = tomllib.load(handle)["tool"]["setuptools"]["packages"]["find"]["include"]
    return sorted({pattern.split(".")[0].rstrip("*") for pattern in patterns} - SKIPPED_PACKAGES)


def package_files(root: Path, packages: list[str]) -> list[Path]:
    """Every file of the packages (sources and data), relative to root, in sorted order."""
    found = []
    for package in packages:
        if not (root / package / "__init__.py").is_file():
            raise FileNotFoundError(f"{root / package} is not a package (no __init__.py)")
        for directory, subdirs, names in os.walk(root / package):
            subdirs[:] = sorted(d for d in subdirs if d not in SKIPPED_DIRS and not d.startswith("."))
            found += [Path(directory, name).relative_to(root) for name in names
                      if Path(name).suffix not in SKIPPED_SUFFIXES and not name.startswith(".")]
    return sorted(found, key=lambda path: path.as_posix())


def write_zip(root: Path, files: list[Path], output: Path) -> str:
    """Write `files` (relative to root) into the zip `output` atomically; returns its sha256."""
    output.parent.mkdir(parents=True, exist_ok=True)
    temporary = output.with_name(f"{output.name}.tmp-{os.getpid()}")
    with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for relative in files:
            entry = zipfile.ZipInfo(relative.as_posix(), date_time=ZIP_TIME)
            entry.external_attr = ZIP_FILE_MODE
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, (root / relative).read_bytes())
    os.replace(temporary, output)
    return hashlib.sha256(output.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", default=str(ROOT / "dist" / "corpus_pipeline.zip"), help="zip file to write")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    packages = project_packages()
    files = package_files(ROOT, packages)
    digest = write_zip(ROOT, files, Path(args.output))
    print(f"Wrote {args.output}: {len(files)} files of {', '.join(packages)}; sha256 {digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
