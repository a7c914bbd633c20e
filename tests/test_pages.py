"""The privacy policy and terms of use: served by the webhook as readable, escaped HTML pages,
and saying what the skill really does with a runner's data."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from conftest import REPO
from flask.testing import FlaskClient

from skill.alexa.handlers import build_skill
from skill.alexa.progress import RESUME_WINDOW_SECONDS
from skill.settings import Settings
from skill.web import pages
from skill.web.pages import LEGAL_DIR, PageError, load_page, render, rendered_pages
from skill.web.webhook import create_app

VOID = {"meta", "br", "hr", "img", "link", "input"}


class Reader(HTMLParser):
    """The page's text as a person reads it, and a check that its tags are balanced."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.text: list[str] = []
        self.tags: list[str] = []
        self.in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in VOID:
            self.open.append(tag)
        self.in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open[-1:]}"
        self.open.pop()
        self.in_style = False

    def handle_data(self, data: str) -> None:
        if not self.in_style:
            self.text.append(data)

    @classmethod
    def read(cls, html: str) -> Reader:
        reader = cls()
        reader.feed(html)
        reader.close()
        assert reader.open == [], f"unclosed: {reader.open}"
        return reader

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


@pytest.fixture
def client() -> FlaskClient:
    """The webhook as it runs in production: verification on."""
    return create_app(Settings(), skill=build_skill()).test_client()


@pytest.mark.parametrize(
    ("path", "title"), [("/privacy", "Privacy policy"), ("/terms", "Terms of use")]
)
def test_pages_are_served_as_readable_html(client: FlaskClient, path: str, title: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    html = response.get_data(as_text=True)
    assert html.startswith("<!doctype html>")
    reader = Reader.read(html)
    assert f"<h1>{title}</h1>" in html
    assert "script" not in reader.tags
    assert reader.tags.count("h2") >= 5
    assert 'href="/privacy"' in html and 'href="/terms"' in html
    assert title in reader.words


def test_privacy_policy_says_what_is_kept_for_how_long_and_how_to_delete_it() -> None:
    words = Reader.read(rendered_pages()["privacy"].decode()).words
    for fact in (
        "where you are in the routine (the pose, the side and the step)",
        "flow or hold mode, how many breaths each hold lasts",
        "the body area you asked to focus on",
        "brief instructions",
        "SHA-256 hash of the anonymous user ID",
        "The user ID itself is never stored",
        "overwritten as you go",
        f"After {RESUME_WINDOW_SECONDS // 3600} hours",
        "stays until you disable the skill",
        "Disable the skill in the Alexa app",
        "deletes your record",
        "not sold, shared or used for advertising",
    ):
        assert fact in words, fact


def test_retention_periods_in_the_policy_are_the_templates() -> None:
    """The policy promises 30 days of logs and 35 days of backups: what template.yaml sets up
    (the log group's default retention, the table's point-in-time recovery)."""
    words = Reader.read(rendered_pages()["privacy"].decode()).words
    template = (REPO / "template.yaml").read_text(encoding="utf-8")
    retention = re.search(r"LogRetentionDays:.*?Default: (\d+)", template, re.DOTALL)
    assert retention is not None
    assert f"Logs are kept for {retention.group(1)} days" in words
    assert "PointInTimeRecoveryEnabled: true" in template
    assert "no longer hold it after 35 days" in words  # DynamoDB keeps 35 days of recovery points


def test_terms_carry_the_health_disclaimer() -> None:
    words = Reader.read(rendered_pages()["terms"].decode()).words
    for fact in (
        "It is not medical advice",
        "check with a health professional before you use the skill",
        "Stop at once if anything hurts",
        "at your own risk",
        "privacy policy",
    ):
        assert fact in words, fact


def test_text_is_escaped(tmp_path: Path) -> None:
    page = load_page("privacy")
    sneaky = "<script>alert('x')</script> & <b>bold</b> \"quoted\""
    data = {
        "title": "Privacy policy",
        "updated": "today",
        "lead": sneaky,
        "sections": [{"heading": sneaky, "text": [sneaky, [sneaky, "plain"]]}],
    }
    (tmp_path / "privacy.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    html = render(load_page("privacy", tmp_path))
    reader = Reader.read(html)
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;b&gt;" in html
    assert reader.words.count(sneaky) == 4
    assert "script" not in reader.tags
    assert page.title == "Privacy policy"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"title": "Privacy policy"}, "expected exactly title, updated, lead and sections"),
        (
            {"title": "Privacy policy", "updated": "x", "lead": "x", "sections": []},
            "sections must be a non-empty list",
        ),
        (
            {"title": "P", "updated": "x", "lead": "x", "sections": [{"heading": "h"}]},
            r"sections\[0\]: expected exactly heading and text",
        ),
        (
            {
                "title": "P",
                "updated": "x",
                "lead": "x",
                "sections": [{"heading": "h", "text": ["ok", 7]}],
            },
            r"sections\[0\]\.text\[1\]: expected text",
        ),
    ],
)
def test_malformed_page_names_the_field(tmp_path: Path, data: dict, error: str) -> None:
    (tmp_path / "privacy.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(PageError, match=error):
        load_page("privacy", tmp_path)


def test_pages_are_rendered_once_when_first_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not at start-up (a server's cold start answers Alexa first), and each only once."""
    calls: list[str] = []
    real = pages.render

    def counting(page: pages.Page, template: object = None) -> str:
        calls.append(page.name)
        return real(page, template)  # type: ignore[arg-type]

    monkeypatch.setattr(pages, "render", counting)
    client = create_app(Settings(verify=False), skill=build_skill()).test_client()
    assert calls == []
    for _ in range(3):
        assert client.get("/privacy").status_code == 200
        assert client.get("/terms").status_code == 200
    assert sorted(calls) == ["privacy", "terms"]


def test_the_data_files_are_the_pages_and_nothing_else() -> None:
    assert sorted(p.stem for p in LEGAL_DIR.glob("*.yaml")) == sorted(pages.PAGES)
    assert set(rendered_pages()) == set(pages.PAGES)
