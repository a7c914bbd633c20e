"""The benchmark's workload: a realistic 40-turn session, recorded once live and replayed exactly.

A runner's session as Alexa would send it: genuine envelopes from :mod:`skill.local.envelopes`, the
session attributes of each answer carried into the next request. The bodies of one live pass are
recorded; every timed replay sends those exact bytes (re-stamped and re-signed only where request
verification needs a fresh timestamp).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from wsgi_call import Caller, environ_template

from skill.local.envelopes import DEFAULT_SKILL_ID, Session, slot, timestamp

REPO = Path(__file__).resolve().parents[1]
SKILL_ID = DEFAULT_SKILL_ID


def _pose(name: str, pose_id: str) -> dict[str, Any]:
    return {"pose": slot("pose", name, resolved_id=pose_id, slot_type="PoseType")}


def _mode(mode: str) -> dict[str, Any]:
    return {"mode": slot("mode", mode, resolved_id=mode, slot_type="ModeType")}


# (what the runner says, request type or intent, slots): slots as the local dialog builds them from
# the en-GB interaction model (built-in types carry the resolved value, custom types resolutions).
TURNS: list[tuple[str, str, dict[str, Any]]] = [
    ("start post run yoga", "LaunchRequest", {}),
    ("next", "AMAZON.NextIntent", {}),
    ("next", "AMAZON.NextIntent", {}),
    ("yes", "AMAZON.YesIntent", {}),
    ("which side am I on", "WhichSideIntent", {}),
    ("next", "AMAZON.NextIntent", {}),
    ("what's the top tip", "TopTipIntent", {}),
    ("next", "AMAZON.NextIntent", {}),
    ("what does this stretch", "TargetAreasIntent", {}),
    ("what was step two", "RepeatStepIntent", {"step_number": slot("step_number", "2")}),
    ("repeat that", "AMAZON.RepeatIntent", {}),
    ("next", "AMAZON.NextIntent", {}),
    ("next", "AMAZON.NextIntent", {}),
    ("hold for eight breaths", "SetHoldLengthIntent", {"breaths": slot("breaths", "8")}),
    ("next", "AMAZON.NextIntent", {}),
    ("help", "AMAZON.HelpIntent", {}),
    ("next", "AMAZON.NextIntent", {}),
    ("where am I", "WhereAmIIntent", {}),
    ("switch sides", "SwitchSideIntent", {}),
    ("repeat the second step", "RepeatStepIntent", {"step_ordinal": slot("step_ordinal", "2")}),
    ("next", "AMAZON.NextIntent", {}),
    ("pause", "AMAZON.PauseIntent", {}),
    ("resume", "AMAZON.ResumeIntent", {}),
    ("next", "AMAZON.NextIntent", {}),
    ("skip this pose", "SkipPoseIntent", {}),
    ("switch to flow mode", "SetModeIntent", _mode("flow")),
    ("next", "AMAZON.NextIntent", {}),
    ("hold mode", "SetModeIntent", _mode("hold")),
    ("go to pigeon", "GoToPoseIntent", _pose("pigeon", "pigeon")),
    ("which side am I on", "WhichSideIntent", {}),
    ("repeat that", "AMAZON.RepeatIntent", {}),
    ("next", "AMAZON.NextIntent", {}),
    ("no", "AMAZON.NoIntent", {}),
    ("what's the top tip", "TopTipIntent", {}),
    ("go back", "AMAZON.PreviousIntent", {}),
    ("start this pose again", "RepeatPoseIntent", {}),
    ("next", "AMAZON.NextIntent", {}),
    ("what does this stretch", "TargetAreasIntent", {}),
    ("help", "AMAZON.HelpIntent", {}),
    ("stop", "AMAZON.StopIntent", {}),
]
assert len(TURNS) == 40


@dataclass
class Recorded:
    """One live pass: what was said, the exact bodies sent and the answers received."""

    labels: list[str]
    bodies: list[bytes]
    responses: list[dict[str, Any]] = field(default_factory=list)

    def speeches(self) -> list[str]:
        return [speech_of(r) for r in self.responses]


def speech_of(response: dict[str, Any]) -> str:
    return ((response.get("response") or {}).get("outputSpeech") or {}).get("ssml", "")


def record_session(app: Any) -> Recorded:
    """Talk the 40 turns through ``app`` (a WSGI app) as Alexa would, carrying attributes."""
    session = Session(skill_id=SKILL_ID)
    caller = Caller(app)
    recorded = Recorded(labels=[], bodies=[])
    for index, (said, kind, slots) in enumerate(TURNS):
        envelope = session.launch() if kind == "LaunchRequest" else session.intent(kind, slots)
        body = json.dumps(envelope).encode()
        _, out = caller.call(environ_template(len(body)), body)
        if not caller.last_status().startswith("200"):
            raise RuntimeError(f"turn {index + 1} ({said!r}) got {caller.last_status()}: {out!r}")
        response = json.loads(out)
        ends = bool((response.get("response") or {}).get("shouldEndSession"))
        if ends != (index == len(TURNS) - 1):
            raise RuntimeError(f"turn {index + 1} ({said!r}) shouldEndSession={ends}")
        session.absorb(response)
        recorded.labels.append(said)
        recorded.bodies.append(body)
        recorded.responses.append(response)
    return recorded


def restamp(
    bodies: list[bytes],
    now: datetime | None = None,
    *,
    user_id: str | None = None,
    session_suffix: str | None = None,
) -> list[bytes]:
    """The same bodies with ``request.timestamp`` set to ``now`` (and optionally another runner)."""
    stamp = timestamp(now)
    out = []
    for body in bodies:
        envelope = json.loads(body)
        envelope["request"]["timestamp"] = stamp
        if user_id is not None:
            envelope["session"]["user"]["userId"] = user_id
            envelope["context"]["System"]["user"]["userId"] = user_id
        if session_suffix is not None:
            envelope["session"]["sessionId"] += session_suffix
            envelope["request"]["requestId"] += session_suffix
        out.append(json.dumps(envelope).encode())
    return out


# ---------------------------------------------------------------------- a throwaway CA


def certs_module() -> Any:
    """tests/certs.py: the throwaway Alexa-like signing chain the tests use."""
    tests_dir = str(REPO / "tests")
    if tests_dir not in sys.path:
        sys.path.insert(0, tests_dir)
    import certs

    return certs


@dataclass
class SignedEnv:
    """ALEXA_TRUST_STORE and ALEXA_CERT_CACHE_DIR for a throwaway CA, as tests/test_webhook.py
    ``signed_env`` sets them, and the chain that signs requests."""

    env: dict[str, str]
    chain: Any
    cert_url: str

    def headers(self, body: bytes) -> dict[str, str]:
        return dict(self.chain.headers(body, cert_url=self.cert_url))


def make_signed_env(directory: Path) -> SignedEnv:
    from skill.web.verification import cache_file_name

    certs = certs_module()
    chain = certs.make_chain()
    trust = directory / "roots.pem"
    trust.write_bytes(chain.root_pem)
    cache = directory / "certs"
    cache.mkdir(exist_ok=True)
    (cache / cache_file_name(certs.CERT_URL)).write_bytes(chain.chain_pem)
    env = {
        "ALEXA_TRUST_STORE": str(trust),
        "ALEXA_CERT_CACHE_DIR": str(cache),
        "YOGA_SKILL_ID": SKILL_ID,
    }
    return SignedEnv(env=env, chain=chain, cert_url=certs.CERT_URL)
