"""Build the skill from the settings: the one place entry points get their skill object."""

from __future__ import annotations

from ask_sdk_core.skill import CustomSkill

from skill.alexa.handlers import build_skill
from skill.alexa.persistence import adapter_for
from skill.audio.clips import clip_lookup
from skill.settings import Settings


def skill_for(settings: Settings) -> CustomSkill:
    """The skill as the settings configure it (progress store, clips, play-through)."""
    clips = clip_lookup(settings.audio_base_url) if settings.audio_base_url else None
    return build_skill(
        persistence=adapter_for(settings), clips=clips, audio_base_url=settings.audio_base_url
    )
