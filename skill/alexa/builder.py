"""Build the skill from the environment: the one place entry points get their skill object."""

from __future__ import annotations

import os
from collections.abc import Mapping

from ask_sdk_core.skill import CustomSkill

from skill.alexa.handlers import build_skill
from skill.alexa.persistence import adapter_from_env
from skill.audio.clips import clip_lookup


def skill_from_env(environ: Mapping[str, str] | None = None) -> CustomSkill:
    """The skill as configured by YOGA_* variables (see the README); defaults are embedded."""
    environ = os.environ if environ is None else environ
    clips = None
    base_url = (environ.get("YOGA_AUDIO_BASE_URL") or "").strip()
    if base_url:
        clips = clip_lookup(base_url)
    return build_skill(persistence=adapter_from_env(environ), clips=clips)
