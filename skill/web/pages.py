"""The privacy policy and the terms of use, as readable HTML pages.

The texts are data (``skill/publish/legal/<page>.yaml``: a title, the date, a lead paragraph and
sections of paragraphs and bulleted lists, all plain text). They are rendered into
``skill/web/static/page.html``, escaping every piece of text. The webhook serves them at
``/privacy`` and ``/terms`` (:func:`init_app`, in :mod:`skill.web.page_routes`: each rendered when
first asked for, once); ``yoga-skill package`` writes the same bytes for the static host beside
the clips, under the same paths.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

from skill.datafiles import read_yaml
from skill.resources import PACKAGE_DIR
from skill.web.page_routes import CACHE_SECONDS, CONTENT_TYPE, PAGES, init_app

LEGAL_DIR = PACKAGE_DIR / "publish" / "legal"
TEMPLATE = PACKAGE_DIR / "web" / "static" / "page.html"

__all__ = [
    "CACHE_SECONDS",
    "CONTENT_TYPE",
    "LEGAL_DIR",
    "PAGES",
    "TEMPLATE",
    "Page",
    "PageError",
    "Section",
    "init_app",
    "load_page",
    "render",
    "rendered_page",
    "rendered_pages",
]

Block = str | tuple[str, ...]
"""A paragraph, or a bulleted list of items."""


class PageError(ValueError):
    """A page's data file is malformed; the message names the file and the field."""


@dataclass(frozen=True)
class Section:
    """A heading and what follows it: paragraphs and bulleted lists."""

    heading: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Page:
    """A page as its data file says it, checked."""

    name: str
    title: str
    updated: str
    lead: str
    sections: tuple[Section, ...]


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PageError(f"{where}: expected text, got {value!r}")
    return " ".join(value.split())


def _block(value: Any, where: str) -> Block:
    if isinstance(value, list):
        if not value:
            raise PageError(f"{where}: an empty list")
        return tuple(_text(item, f"{where}[{i}]") for i, item in enumerate(value))
    return _text(value, where)


def load_page(name: str, directory: Path = LEGAL_DIR) -> Page:
    """The page ``name`` from ``<directory>/<name>.yaml``, checked."""
    path = directory / f"{name}.yaml"
    data = read_yaml(path)
    where = path.name
    if not isinstance(data, dict) or set(data) != {"title", "updated", "lead", "sections"}:
        raise PageError(f"{where}: expected exactly title, updated, lead and sections")
    if not isinstance(data["sections"], list) or not data["sections"]:
        raise PageError(f"{where}: sections must be a non-empty list")
    sections = []
    for i, raw in enumerate(data["sections"]):
        at = f"{where}: sections[{i}]"
        if not isinstance(raw, dict) or set(raw) != {"heading", "text"}:
            raise PageError(f"{at}: expected exactly heading and text")
        if not isinstance(raw["text"], list) or not raw["text"]:
            raise PageError(f"{at}.text: expected a non-empty list")
        blocks = tuple(_block(b, f"{at}.text[{j}]") for j, b in enumerate(raw["text"]))
        sections.append(Section(_text(raw["heading"], f"{at}.heading"), blocks))
    return Page(
        name=name,
        title=_text(data["title"], f"{where}: title"),
        updated=_text(data["updated"], f"{where}: updated"),
        lead=_text(data["lead"], f"{where}: lead"),
        sections=tuple(sections),
    )


def _html_block(block: Block) -> str:
    if isinstance(block, str):
        return f"<p>{html.escape(block)}</p>"
    items = "".join(f"<li>{html.escape(item)}</li>" for item in block)
    return f"<ul>{items}</ul>"


def render(page: Page, template: Template | None = None) -> str:
    """The page as a whole HTML document; every piece of text escaped."""
    template = template or Template(TEMPLATE.read_text(encoding="utf-8"))
    body = [f'<p class="lead">{html.escape(page.lead)}</p>']
    for section in page.sections:
        body.append(f"<h2>{html.escape(section.heading)}</h2>")
        body.extend(_html_block(block) for block in section.blocks)
    nav = " · ".join(f'<a href="/{name}">{html.escape(title)}</a>' for name, title in PAGES.items())
    return template.substitute(
        title=html.escape(page.title),
        updated=html.escape(page.updated),
        body="\n".join(body),
        nav=nav,
    )


def rendered_page(
    name: str, directory: Path = LEGAL_DIR, template: Template | None = None
) -> bytes:
    """The page ``name`` (one of :data:`PAGES`), rendered: the UTF-8 HTML document."""
    page = load_page(name, directory)
    title = PAGES[name]
    if page.title != title:
        raise PageError(f"{name}.yaml: the title must be {title!r}, not {page.title!r}")
    return render(page, template).encode("utf-8")


def rendered_pages(directory: Path = LEGAL_DIR) -> dict[str, bytes]:
    """Every page, rendered: path name -> the UTF-8 HTML document."""
    template = Template(TEMPLATE.read_text(encoding="utf-8"))
    return {name: rendered_page(name, directory, template) for name in PAGES}
