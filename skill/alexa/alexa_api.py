"""The Alexa APIs the habits use: the device's time zone and the runner's reminders.

Both go through ask-sdk's own service clients (``UpsServiceClient.get_system_time_zone`` and
``ReminderManagementServiceClient``, from the service client factory of a skill built with an
API client), with :class:`TimeoutApiClient` as that API client. ask-sdk's ``DefaultApiClient``
calls ``requests`` with no timeout at all (a stub that answers after 5 s holds the request 5 s,
one that never answers holds it until Alexa gives up on the skill), and refuses any endpoint
that is not HTTPS; this one is ``http.client`` with a deadline for the whole call, so an API that
is slow or down costs the runner at most :data:`TIME_ZONE_TIMEOUT` or :data:`REMINDERS_TIMEOUT`.

Each call goes to the request's own ``context.System.apiEndpoint`` with its ``apiAccessToken``,
and only to Alexa's API hosts (``*.amazonalexa.com`` over HTTPS): a request that names another
host gets no call. Tests allow loopback too, for their stubs of the APIs.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit

from ask_sdk_core.exceptions import ApiClientException
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model.services import (
    ApiClient,
    ApiClientRequest,
    ApiClientResponse,
    ApiConfiguration,
    ServiceClientFactory,
    ServiceException,
)
from ask_sdk_model.services.reminder_management import (
    AlertInfo,
    PushNotification,
    PushNotificationStatus,
    ReminderRequest,
    SpokenInfo,
    SpokenText,
    Trigger,
    TriggerType,
)

if TYPE_CHECKING:
    import http.client
    import ssl

# http.client (with ssl and email), zoneinfo and ipaddress are imported when first called: a
# launch calls none of them, and together they are a fifth of a cold start.

log = logging.getLogger(__name__)

TIME_ZONE_TIMEOUT = 1.0
"""Seconds the time zone may take before the runner's days are taken in UTC."""
REMINDERS_TIMEOUT = 2.0
"""Seconds each Reminders API call may take (Alexa gives the whole answer 8 s)."""
MAX_BODY_BYTES = 256 * 1024
ALEXA_API_HOST_SUFFIX = ".amazonalexa.com"
REMINDERS_PERMISSION = "alexa::alerts:reminders:skill:readwrite"
MAX_CANCELLED = 10
"""Reminders one "cancel my reminders" deletes at most (each is a call)."""


class ApiUnavailable(Exception):
    """The API did not answer in time, failed, or is not one the skill may call."""


class PermissionNeeded(Exception):
    """The runner has not let the skill use their reminders (401 or 403)."""


class Rejected(Exception):
    """The API refused the request as such (400: a time gone by, a malformed reminder)."""


REMINDERS_PATH = "/v1/alerts/reminders"
SETTINGS_PATH = "/settings/"
"""Calls to the Settings API (the time zone) have their own, shorter deadline."""


class TimeoutApiClient(ApiClient):
    """An ask-sdk ``ApiClient`` on ``http.client``, with a deadline for the whole call: the
    Settings API's ``settings_timeout``, any other API's ``timeout``."""

    def __init__(
        self,
        timeout: float = REMINDERS_TIMEOUT,
        *,
        settings_timeout: float = TIME_ZONE_TIMEOUT,
        allow_loopback: bool = False,
    ) -> None:
        self.timeout = timeout
        self.settings_timeout = settings_timeout
        self.allow_loopback = allow_loopback

    def allowed(self, url: str) -> bool:
        """Whether ``url`` is an Alexa API the skill may call (or loopback, when allowed)."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.scheme == "https" and host.endswith(ALEXA_API_HOST_SUFFIX):
            return True
        return self.allow_loopback and parts.scheme in ("http", "https") and _loopback(host)

    def invoke(self, request: ApiClientRequest) -> ApiClientResponse:
        settings = SETTINGS_PATH in urlsplit(str(request.url or "")).path
        return self.call(request, self.settings_timeout if settings else self.timeout)

    def call(self, request: ApiClientRequest, timeout: float) -> ApiClientResponse:
        import http.client

        url = str(request.url or "")
        if not self.allowed(url):
            raise ApiClientException(f"not an Alexa API endpoint: {urlsplit(url).hostname!r}")
        parts = urlsplit(url)
        deadline = time.monotonic() + timeout
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(
                parts.hostname or "",
                parts.port,
                timeout=timeout,
                context=_tls_context(),
            )
        else:
            connection = http.client.HTTPConnection(
                parts.hostname or "", parts.port, timeout=timeout
            )
        headers = {key: value for key, value in request.headers or []}
        body: Any = request.body
        if body is not None and not isinstance(body, str | bytes):
            body = json.dumps(body)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request(str(request.method or "GET"), path, body=body, headers=headers)
            _remaining(connection, deadline)
            response = connection.getresponse()
            chunks: list[bytes] = []
            size = 0
            while size <= MAX_BODY_BYTES:
                _remaining(connection, deadline)
                chunk = response.read(16384)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise ApiClientException("the API's answer is too large")
            return ApiClientResponse(
                headers=list(response.getheaders()),
                status_code=response.status,
                body=b"".join(chunks).decode("utf-8", errors="replace"),
            )
        except (OSError, http.client.HTTPException) as exc:
            raise ApiClientException(f"{type(exc).__name__}: {exc}") from exc
        finally:
            connection.close()


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The default TLS context, made once: making one loads the system's CA certificates, which
    costs more than the whole call."""
    import ssl

    return ssl.create_default_context()


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    from ipaddress import ip_address  # tests' stubs only: not worth a cold start's import

    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def _remaining(connection: http.client.HTTPConnection, deadline: float) -> None:
    """Give the socket what is left of the call's deadline; past it, give up."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the API did not answer in time")
    if connection.sock is not None:
        connection.sock.settimeout(left)


# ---------------------------------------------------------------------- the services


class Zone(NamedTuple):
    """The runner's time zone and its name, or UTC when it could not be had."""

    zone: tzinfo
    name: str | None

    def now(self, clock: float) -> datetime:
        return datetime.fromtimestamp(clock, self.zone)


UTC_ZONE = Zone(UTC, None)


def _system(handler_input: HandlerInput) -> Any:
    return getattr(handler_input.request_envelope.context, "system", None)


def _system_api(handler_input: HandlerInput) -> tuple[str, str]:
    """The request's API endpoint and access token."""
    system = _system(handler_input)
    endpoint = getattr(system, "api_endpoint", None)
    token = getattr(system, "api_access_token", None)
    if not isinstance(endpoint, str) or not endpoint or not isinstance(token, str) or not token:
        raise ApiUnavailable("the request has no API endpoint or token")
    return endpoint, token


class AlexaApi:
    """The calls the habits make, each within its deadline."""

    def __init__(
        self,
        *,
        time_zone_timeout: float = TIME_ZONE_TIMEOUT,
        reminders_timeout: float = REMINDERS_TIMEOUT,
        allow_loopback: bool = False,
    ) -> None:
        self.client = TimeoutApiClient(
            reminders_timeout, settings_timeout=time_zone_timeout, allow_loopback=allow_loopback
        )
        self.serializer = DefaultSerializer()

    def _factory(self, handler_input: HandlerInput) -> ServiceClientFactory:
        """ask-sdk's service clients for this request, on :attr:`client`. (Made here, when a
        call is due, rather than by the skill builder's ``api_client``, with which the SDK makes
        them for every request and fails on a request with no ``context.System``.)"""
        endpoint, token = _system_api(handler_input)
        return ServiceClientFactory(
            ApiConfiguration(
                serializer=self.serializer,
                api_client=self.client,
                authorization_value=token,
                api_endpoint=endpoint,
            )
        )

    def time_zone(self, handler_input: HandlerInput) -> Zone:
        """The device's time zone (Settings API, ``System.timeZone``); UTC if it can't be had
        within the client's ``settings_timeout``."""
        device = getattr(getattr(_system(handler_input), "device", None), "device_id", None)
        if not device:
            return UTC_ZONE
        try:
            name = self._factory(handler_input).get_ups_service().get_system_time_zone(device)
        except Exception as exc:  # best effort: an error the SDK can't even read is one too
            log.info("time zone unavailable (%s): the runner's days are taken in UTC", _why(exc))
            return UTC_ZONE
        return zone_named(name)

    def create_reminder(
        self, handler_input: HandlerInput, at: datetime, zone: Zone, text: str, locale: str
    ) -> None:
        """A reminder at ``at`` (the runner's local time) saying ``text``."""
        trigger = Trigger(
            object_type=TriggerType.SCHEDULED_ABSOLUTE,
            scheduled_time=at.replace(tzinfo=None, second=0, microsecond=0),
            # Without a zone, the Reminders API takes the device's own.
            time_zone_id=zone.name,
        )
        request = ReminderRequest(
            request_time=datetime.now(UTC).replace(tzinfo=None, microsecond=0),
            trigger=trigger,
            alert_info=AlertInfo(
                spoken_info=SpokenInfo(content=[SpokenText(locale=locale, text=text)])
            ),
            push_notification=PushNotification(status=PushNotificationStatus.ENABLED),
        )
        self._reminders(handler_input, "create", lambda s: s.create_reminder(request))

    def reminders(self, handler_input: HandlerInput) -> list[tuple[str, datetime]]:
        """The skill's reminders still to go off: (alert token, local time), soonest first.

        Read with this client directly, not ``get_reminders()``: ask-sdk-model types the
        alerts' ``spokenInfo`` as a class in a module that does not exist
        (``reminder_management.alert_info_spoken_info``), so the SDK fails on every list that
        has a reminder in it (alexa/alexa-apis-for-python#4, still so in 1.82)."""
        endpoint, token = _system_api(handler_input)
        request = ApiClientRequest(
            url=f"{endpoint.rstrip('/')}{REMINDERS_PATH}",
            method="GET",
            headers=[("Authorization", f"Bearer {token}")],
        )
        try:
            response = self.client.invoke(request)
        except ApiClientException as exc:
            log.info("reminders list: %s", _why(exc))
            raise ApiUnavailable("list") from exc
        status = response.status_code or 0
        if status in (401, 403):
            raise PermissionNeeded("list")
        try:
            alerts = json.loads(response.body or "{}").get("alerts") if status == 200 else None
        except (ValueError, AttributeError):
            alerts = None
        if not isinstance(alerts, list):
            log.info("reminders list: %s", status)
            raise ApiUnavailable("list")
        out = []
        for alert in alerts:
            if not isinstance(alert, dict) or alert.get("status") != "ON":
                continue
            alert_token = alert.get("alertToken")
            trigger = alert.get("trigger")
            at = _local_time(trigger.get("scheduledTime") if isinstance(trigger, dict) else None)
            if isinstance(alert_token, str) and at is not None:
                out.append((alert_token, at))
        return sorted(out, key=lambda item: item[1])

    def cancel_reminders(self, handler_input: HandlerInput) -> list[datetime]:
        """Delete the skill's reminders still to go off; the times of those deleted."""
        cancelled = []
        for token, at in self.reminders(handler_input)[:MAX_CANCELLED]:
            self._reminders(handler_input, "cancel", lambda s, t=token: s.delete_reminder(t))
            cancelled.append(at)
        return cancelled

    def _reminders(self, handler_input: HandlerInput, what: str, call: Any) -> Any:
        try:
            service = self._factory(handler_input).get_reminder_management_service()
            return call(service)
        except ServiceException as exc:
            status = getattr(exc, "status_code", None)
            log.info("reminders %s: %s %s", what, status, _why(exc))
            if status in (401, 403):
                raise PermissionNeeded(what) from exc
            if status == 400:
                raise Rejected(what) from exc
            raise ApiUnavailable(what) from exc
        except Exception as exc:  # a broken answer, an SDK that can't read it, no client
            log.info("reminders %s: %s", what, _why(exc))
            raise ApiUnavailable(what) from exc


def _local_time(value: object) -> datetime | None:
    """A reminder's ``scheduledTime`` (``2025-03-15T09:00:00.000``) as a local time."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.removesuffix("Z")).replace(tzinfo=None)
    except ValueError:
        return None


def zone_named(name: object) -> Zone:
    """The zone an API named; UTC for a name that is not one."""
    if not isinstance(name, str) or not name or len(name) > 64:
        return UTC_ZONE
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return Zone(ZoneInfo(name), name)
    except (ZoneInfoNotFoundError, ValueError):
        log.info("time zone %r unknown: the runner's days are taken in UTC", name[:64])
        return UTC_ZONE


def _why(exc: BaseException) -> str:
    """What went wrong, without the request's values."""
    return f"{type(exc).__name__}: {str(exc)[:120]}"
