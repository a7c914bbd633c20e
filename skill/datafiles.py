"""The skill's YAML data files (routine, prompts, lexicon, screens, legal pages), read through a
JSON copy of what they parse to.

Importing PyYAML and parsing the routine and the prompts cost a cold start more than anything
else the skill reads (about a sixth of the Lambda handler's, before this). So each file is parsed
once, and what it parses to is kept as JSON in ``__pycache__/`` beside it, named
``<file>.<hash>.json`` by the hash of the YAML's bytes: an edited file is parsed afresh (and its
old copy removed), never read stale, and PyYAML is imported only then. Where the folder cannot be
written (a read-only install) the file is parsed each time the process reads it, as before;
``make build-YogaFunction`` writes the copies into the Lambda's build with
``python -m skill.datafiles DIRECTORY``. Only plain data is copied: a file whose data does not
come back from JSON unchanged (a date, a key that is not a string) is always parsed.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import zlib
from pathlib import Path
from typing import Any

CACHE_DIR = "__pycache__"


class DataFileError(ValueError):
    """A data file is not valid YAML; the message says where."""


def cache_path(path: Path, raw: bytes) -> Path:
    """Where the JSON copy of ``path``, whose bytes are ``raw``, is kept: named by their size
    and two checksums (zlib's, cheap to import where hashlib would load OpenSSL: a hash of
    local files that only changes when they are edited needs no more)."""
    digest = f"{len(raw):x}-{zlib.crc32(raw):08x}{zlib.adler32(raw):08x}"
    return path.parent / CACHE_DIR / f"{path.name}.{digest}.json"


def parse_yaml(text: str) -> Any:
    """Parse YAML safely (no tags that build objects), with libyaml where it is built in."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        raise DataFileError(str(exc)) from exc


def read_yaml(path: Path) -> Any:
    """What the YAML file ``path`` holds: from its JSON copy when there is a current one, else
    parsed (and the copy written, where it can be). Raises OSError or :class:`DataFileError`."""
    raw = path.read_bytes()
    copy = cache_path(path, raw)
    with contextlib.suppress(OSError, ValueError):
        return json.loads(copy.read_bytes())
    data = parse_yaml(raw.decode("utf-8"))
    _write_copy(copy, data)
    return data


def _write_copy(copy: Path, data: Any) -> None:
    try:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        if json.loads(text) != data:
            return  # not plain data: always parsed
    except (TypeError, ValueError):
        return
    temporary = copy.with_name(f"{copy.name}.{os.getpid()}.tmp")
    try:
        copy.parent.mkdir(exist_ok=True)
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, copy)  # atomic: a concurrent reader sees all of it or nothing
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink()
        return
    stem = copy.name.rsplit(".", 2)[0]  # "<file>.yaml"
    for old in copy.parent.glob(f"{stem}.*.json"):
        if old != copy and old.name.count(".") == copy.name.count("."):
            with contextlib.suppress(OSError):
                old.unlink()


def warm(directory: Path) -> list[Path]:
    """Write the JSON copy of every YAML file under ``directory``; the copies written."""
    written = []
    for path in sorted(directory.rglob("*.yaml")):
        if CACHE_DIR in path.parts:
            continue
        read_yaml(path)
        copy = cache_path(path, path.read_bytes())
        if copy.is_file():
            written.append(copy)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m skill.datafiles DIRECTORY", file=sys.stderr)
        return 2
    written = warm(Path(args[0]))
    print(f"{len(written)} YAML data files copied as JSON under {args[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
