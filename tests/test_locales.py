"""A request's locale is mapped to a supported one before anything uses it: never a file name,
never a cache key of its own.

With verification off, locale ``../routines/post_run`` loaded the routine file as prompts, and
3,000 unique locales grew memory by 72.7 MB (a narrator and its prompts for each).
"""

from __future__ import annotations

import gc
import tracemalloc
from typing import Any

import pytest
from ask_sdk_core.skill import CustomSkill
from conftest import ROUTINE, ssml
from hypothesis import given
from hypothesis import strategies as st

from skill.alexa.dispatch import dispatch
from skill.alexa.handlers import SkillContext, build_skill
from skill.local.envelopes import Session
from skill.settings import DEFAULT_LOCALE, LOCALES, Settings, supported_locale
from skill.web.webhook import create_app


@pytest.mark.parametrize(
    ("asked", "supported"),
    [
        *((locale, locale) for locale in LOCALES),
        ("en-us", "en-US"),
        ("EN-ca", "en-CA"),
        ("en_AU", "en-AU"),
        (" en-IN ", "en-IN"),
        ("en-NZ", "en-AU"),
        ("en-IE", "en-GB"),
        ("en-ZA", "en-GB"),
        ("en-SG", "en-GB"),
        ("en-PK", "en-IN"),
        ("en-PH", "en-US"),
        ("en-XX", "en-GB"),
        ("en", "en-GB"),
        ("fr-FR", "en-GB"),
        ("de-DE", "en-GB"),
        ("ja-JP", "en-GB"),
        ("../routines/post_run", "en-GB"),
        ("en-GB/../../etc/passwd", "en-GB"),
        ("en-US\x00", "en-GB"),
        ("en-" + "x" * 10_000, "en-GB"),
        ("", "en-GB"),
        (None, "en-GB"),
        (42, "en-GB"),
        (["en-US"], "en-GB"),
    ],
)
def test_supported_locale(asked: Any, supported: str) -> None:
    assert supported_locale(asked) == supported


@given(st.one_of(st.text(max_size=40), st.none(), st.integers(), st.binary(max_size=10)))
def test_any_locale_maps_to_a_supported_one(asked: Any) -> None:
    assert supported_locale(asked) in LOCALES


def _launch(locale: Any) -> dict[str, Any]:
    envelope = Session().launch()
    envelope["request"]["locale"] = locale
    return envelope


@pytest.mark.parametrize("locale", ["../routines/post_run", "../prompts/en", "/etc/hostname"])
def test_a_path_for_a_locale_gets_the_usual_welcome(skill: CustomSkill, locale: str) -> None:
    response = dispatch(skill, _launch(locale))
    assert ssml(response).startswith("<speak>Welcome to post run yoga")


def test_a_path_for_a_locale_gets_the_usual_welcome_through_the_webhook() -> None:
    client = create_app(Settings(verify=False), skill=build_skill()).test_client()
    reply = client.post("/alexa", json=_launch("../routines/post_run"))
    assert reply.status_code == 200
    assert ssml(reply.json).startswith("<speak>Welcome to post run yoga")


def test_narrators_are_one_per_supported_locale() -> None:
    ctx = SkillContext(ROUTINE)
    for locale in ("en-NZ", "en-nz", "fr-FR", "xx", None, "en-GB", "en-US", "en-us"):
        ctx.narrator(locale)
    assert set(ctx._narrators) == {"en-AU", "en-GB", "en-US"}
    assert ctx.narrator("en-NZ").locale == "en-AU"
    assert ctx.narrator("../routines/post_run") is ctx.narrator(DEFAULT_LOCALE)


def _context(skill: CustomSkill) -> SkillContext:
    for mapper in skill.request_dispatcher.request_mappers:
        for chain in mapper.request_handler_chains:
            ctx = getattr(chain.request_handler, "ctx", None)
            if isinstance(ctx, SkillContext):
                return ctx
    raise AssertionError("no SkillContext in the skill's handlers")


def test_unique_locales_do_not_grow_memory(skill: CustomSkill) -> None:
    dispatch(skill, _launch("en-GB"))  # warm: the caches hold what a launch says
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for index in range(250):
            dispatch(skill, _launch(f"en-{index:04d}"))  # English: a narrator each, before
            dispatch(skill, _launch(f"xx-{index:04d}"))
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert set(_context(skill)._narrators) <= set(LOCALES)
    assert grown < 2 * 1024 * 1024, grown  # 500 en-* locales took 23 MB before
