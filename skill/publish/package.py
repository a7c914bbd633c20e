"""The skill package: ``skill-package/`` of the ASK CLI project, the zip for import, the pages.

:func:`package_files` makes every file of the package in memory from the sources (the manifest
content, the deployment, the interaction models, the icon); :func:`write_package` puts them in
``skill-package/``; :func:`write_zip` zips them as the ASK CLI does (the package's contents at
the zip's root) for SMAPI's import; :func:`write_site` writes the privacy policy and terms of use
for the static host.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from skill.publish.content import ICON_SOURCE, StoreContent, load_content
from skill.publish.deployment import DEPLOYMENT_FILE, REPO_DIR, Deployment, load_deployment
from skill.publish.icons import ICON_FILES, ICON_SIZES, read_png, render_png
from skill.publish.manifest import ASSETS_DIR, build_manifest
from skill.publish.phrases import Model
from skill.publish.rules import MODELS_IN_PACKAGE, Report, check_package
from skill.resources import INTERACTION_MODELS_DIR
from skill.settings import LOCALES
from skill.web.pages import rendered_pages

SKILL_PACKAGE_DIR = REPO_DIR / "skill-package"
BUILD_DIR = REPO_DIR / "build"
ZIP_NAME = "post-run-yoga-skill-package.zip"
SITE_NAME = "site"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

Files = dict[str, bytes]
"""Package-relative POSIX path -> contents."""


def package_files(
    content: StoreContent,
    deployment: Deployment,
    *,
    models_dir: Path = INTERACTION_MODELS_DIR,
    icon_source: Path = ICON_SOURCE,
    locales: Sequence[str] = LOCALES,
) -> Files:
    """Every file of the skill package, made from the sources."""
    raw = {locale: (models_dir / f"{locale}.json").read_bytes() for locale in locales}
    models = {locale: Model.from_json(json.loads(data)) for locale, data in raw.items()}
    manifest = build_manifest(content, deployment, models)
    files: Files = {
        "skill.json": (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    }
    for locale, data in raw.items():
        files[(MODELS_IN_PACKAGE / f"{locale}.json").as_posix()] = data
    for field, size in ICON_SIZES.items():
        files[f"{ASSETS_DIR}/{ICON_FILES[field]}"] = render_png(size, icon_source)
    return files


def _same(path: str, ours: bytes, theirs: bytes) -> bool:
    """Byte for byte; a PNG by its pixels (cairo's antialiasing differs slightly by version)."""
    if ours == theirs:
        return True
    if not path.endswith(".png"):
        return False
    from PIL import Image, ImageChops, ImageStat

    try:
        with Image.open(io.BytesIO(ours)) as a, Image.open(io.BytesIO(theirs)) as b:
            if a.size != b.size:
                return False
            difference = ImageChops.difference(a.convert("RGBA"), b.convert("RGBA"))
    except OSError:
        return False
    return max(ImageStat.Stat(difference).mean) < 1.0


def stale_files(files: Files, root: Path) -> list[str]:
    """The package files in ``root`` that differ from ``files``, are missing, or are extra."""
    present = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    stale = sorted(present - set(files))
    for path, data in sorted(files.items()):
        target = root / path
        if not target.is_file() or not _same(path, data, target.read_bytes()):
            stale.append(path)
    return stale


def write_package(files: Files, root: Path = SKILL_PACKAGE_DIR) -> None:
    """Make ``root`` hold exactly ``files`` (an icon that only antialiases differently is kept)."""
    root.mkdir(parents=True, exist_ok=True)
    for old in root.rglob("*"):
        if old.is_file() and old.relative_to(root).as_posix() not in files:
            old.unlink()
    for path, data in files.items():
        target = root / path
        if target.is_file() and _same(path, data, target.read_bytes()):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()


def read_package(root: Path = SKILL_PACKAGE_DIR) -> Files:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def write_zip(files: Files, path: Path) -> Path:
    """The package as a zip for SMAPI's import: its files at the root, the same bytes for the
    same files (sorted names, fixed times)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, _ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    return path


def write_site(pages: Mapping[str, bytes], folder: Path) -> list[Path]:
    """The pages as files named as their paths (``privacy``, ``terms``), for a static host
    that serves them under the same paths as the webhook."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in pages.items():
        target = folder / name
        target.write_bytes(data)
        written.append(target)
    return written


def icon_facts(files: Files) -> Iterable[tuple[str, int, int]]:
    """(path, width, height) of each icon in the package files."""
    for field in ICON_SIZES:
        path = f"{ASSETS_DIR}/{ICON_FILES[field]}"
        facts = read_png(files[path])
        yield path, facts.width, facts.height


@dataclass(frozen=True)
class Outcome:
    """What ``yoga-skill package`` did and found."""

    report: Report
    stale: tuple[str, ...] = ()
    """Files of ``skill-package/`` that differ from what the sources give (``--check`` only)."""
    zip_path: Path | None = None
    site: tuple[Path, ...] = ()


def make_package(
    *,
    check: bool = False,
    package_dir: Path | None = None,
    build_dir: Path | None = None,
    deployment_file: Path | None = None,
) -> Outcome:
    """Regenerate ``skill-package/`` and check it; if it is valid, write the zip and the pages
    to ``build/``.

    With ``check`` nothing is written: the committed package is compared with what the sources
    give, and checked.
    """
    package_dir = package_dir or SKILL_PACKAGE_DIR
    build_dir = build_dir or BUILD_DIR
    deployment = load_deployment(deployment_file or DEPLOYMENT_FILE)
    files = package_files(load_content(), deployment)
    if check:
        stale = tuple(stale_files(files, package_dir))
        return Outcome(check_package(package_dir), stale)
    write_package(files, package_dir)
    report = check_package(package_dir)
    if not report.valid:
        return Outcome(report)
    zip_path = write_zip(read_package(package_dir), build_dir / ZIP_NAME)
    site = write_site(rendered_pages(), build_dir / SITE_NAME)
    return Outcome(report, zip_path=zip_path, site=tuple(site))
