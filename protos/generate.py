"""Regenerate the committed Python modules from the .proto sources.

    python -m seqserve.protos.generate          # rewrite the *_pb2* files in place
    python -m seqserve.protos.generate --check  # exit 1 if they differ from the sources

The generated modules are committed (the serving install has no grpcio-tools),
so `--check` runs in CI and in tests to prove they still match the sources.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
import tempfile
from importlib import metadata, resources
from pathlib import Path

PROTO_ROOT = Path(__file__).resolve().parent
"""The protos/ directory: the include root, so `seqserve/v1/x.proto` is the
name protoc records (and reflection reports), matching the proto package."""

INSTALLED_PACKAGE = "seqserve.protos"
"""Where PROTO_ROOT is importable: protos/ installs as `seqserve.protos`."""

GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


def proto_sources() -> list[Path]:
    """Every .proto under PROTO_ROOT, relative to it, in a stable order."""
    return sorted(p.relative_to(PROTO_ROOT) for p in PROTO_ROOT.rglob("*.proto"))


def committed_files() -> list[Path]:
    """Every generated module currently under PROTO_ROOT, relative to it."""
    found = [
        p.relative_to(PROTO_ROOT)
        for p in PROTO_ROOT.rglob("*")
        if p.is_file() and p.name.endswith(GENERATED_SUFFIXES)
    ]
    return sorted(found)


# Generated code is not ours to restyle; pyproject excludes the .py files, and
# this marker keeps the .pyi stubs (and any other runner's config) quiet too.
_LINT_MARKER = "# ruff: noqa\n"


def _local_import_pattern() -> re.Pattern[str]:
    """Imports of modules generated from our own sources, e.g. `from seqserve.v1 import`.

    protoc writes them relative to the include root, but that root installs as
    `seqserve.protos`: `seqserve.v1` would look inside the distribution itself
    (and a later `inference/` tree for KServe v2 would not resolve at all).
    """
    roots = sorted({p.parts[0] for p in proto_sources() if len(p.parts) > 1})
    if not roots:
        return re.compile(r"(?!x)x")  # matches nothing
    alternatives = "|".join(re.escape(r) for r in roots)
    installed = re.escape(INSTALLED_PACKAGE)  # already rewritten: leave alone (idempotent)
    return re.compile(
        rf"^from (?!{installed}\b)((?:{alternatives})(?:\.\w+)*) import ", re.MULTILINE
    )


PRIVATE_POOLS = {"inference": f"{INSTALLED_PACKAGE}.inference.pool"}
"""Proto roots whose modules register in their own descriptor pool (a module
with a `POOL`), not protobuf's default one. `inference` shares its full names
with tritonclient's modules; see protos/inference/pool.py."""

_DEFAULT_POOL_CALL = "_descriptor_pool.Default().AddSerializedFile("


def _use_private_pool(text: str, pool_module: str) -> str:
    if _DEFAULT_POOL_CALL not in text:
        return text  # *_pb2_grpc.py and .pyi stubs hold no descriptors
    text = text.replace(_DEFAULT_POOL_CALL, "_private_pool.POOL.AddSerializedFile(")
    marker = "from google.protobuf.internal import builder as _builder\n"
    return text.replace(marker, f"{marker}from {pool_module} import pool as _private_pool\n", 1)


def _postprocess(text: str, rel: Path | None = None) -> str:
    fixed = _local_import_pattern().sub(rf"from {INSTALLED_PACKAGE}.\1 import ", text)
    if rel is not None and len(rel.parts) > 1 and rel.parts[0] in PRIVATE_POOLS:
        fixed = _use_private_pool(fixed, PRIVATE_POOLS[rel.parts[0]].rsplit(".", 1)[0])
    return _LINT_MARKER + fixed


def generate_into(out_dir: Path) -> list[Path]:
    """Run protoc on every source into out_dir; returns the files written (relative)."""
    from grpc_tools import protoc  # dev-only dependency: import only when generating

    well_known = resources.files("grpc_tools") / "_proto"
    sources = [str(p) for p in proto_sources()]
    if not sources:
        raise SystemExit(f"no .proto files under {PROTO_ROOT}")
    args = [
        "grpc_tools.protoc",
        f"--proto_path={PROTO_ROOT}",
        f"--proto_path={well_known}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *sources,
    ]
    code = protoc.main(args)
    if code != 0:
        raise SystemExit(f"protoc failed with exit code {code}")
    written = sorted(
        p.relative_to(out_dir)
        for p in out_dir.rglob("*")
        if p.is_file() and p.name.endswith(GENERATED_SUFFIXES)
    )
    for rel in written:
        path = out_dir / rel
        path.write_text(_postprocess(path.read_text(), rel))
    return written


def check() -> list[str]:
    """Regenerate into a temp dir; returns one problem line per differing file."""
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        fresh = generate_into(out)
        for rel in fresh:
            committed = PROTO_ROOT / rel
            if not committed.is_file():
                problems.append(f"{rel}: missing (not generated/committed)")
                continue
            new, old = (out / rel).read_text(), committed.read_text()
            if new != old:
                diff = difflib.unified_diff(
                    old.splitlines(), new.splitlines(), "committed", "regenerated", lineterm="", n=0
                )
                preview = "\n    ".join(list(diff)[:12])
                problems.append(f"{rel}: differs from its source\n    {preview}")
        for rel in set(committed_files()) - set(fresh):
            problems.append(f"{rel}: stale (no .proto generates it any more)")
    return problems


def write() -> list[Path]:
    """Regenerate in place: fresh files replace the committed ones, stale ones go."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        fresh = generate_into(out)
        for rel in fresh:
            target = PROTO_ROOT / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text((out / rel).read_text())
    for rel in set(committed_files()) - set(fresh):
        (PROTO_ROOT / rel).unlink()
    return fresh


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m seqserve.protos.generate", description=__doc__)
    parser.add_argument(
        "--check", action="store_true", help="fail if the committed modules differ from the sources"
    )
    args = parser.parse_args(argv)
    if not args.check:
        for rel in write():
            print(f"wrote {PROTO_ROOT / rel}")
        return 0
    problems = check()
    if not problems:
        print(f"generated modules match {len(proto_sources())} .proto source(s)")
        return 0
    tools = metadata.version("grpcio-tools")
    print("generated modules are out of date:", file=sys.stderr)
    for line in problems:
        print(f"  {line}", file=sys.stderr)
    print(
        f"run `python -m seqserve.protos.generate` and commit the result "
        f"(grpcio-tools {tools} installed; a different version also changes the output)",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
