"""``skill.json``: the skill manifest, assembled from the content, the deployment and the models.

Only what the skill uses is declared: the custom interaction model with the interfaces
``manifest.yaml`` names, the permissions it names (the reminders), and the one skill event it
handles. Without an endpoint the
manifest has no ``events`` either (Alexa sends events to the endpoint); without a site it has no
privacy policy or terms of use URLs. Such a package is a draft: :mod:`skill.publish.rules` says
what it still lacks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from skill.publish.content import PublishError, StoreContent
from skill.publish.deployment import Deployment
from skill.publish.icons import ICON_FILES
from skill.publish.phrases import Model, make_phrases
from skill.screens.documents import apl_interface

MANIFEST_VERSION = "1.0"
ASSETS_DIR = "assets/images"


def icon_uri(field: str) -> str:
    """The package-relative URI of an icon (the ASK CLI and SMAPI upload the file)."""
    return f"file://{ASSETS_DIR}/{ICON_FILES[field]}"


def build_manifest(
    content: StoreContent, deployment: Deployment, models: Mapping[str, Model]
) -> dict[str, Any]:
    """The manifest, as ``skill.json`` holds it; locales in the order of ``models``."""
    missing = set(models) ^ set(content.listings)
    if missing:
        raise PublishError(
            f"store listings and interaction models differ in locales: {sorted(missing)}"
        )
    locales: dict[str, Any] = {}
    for locale, model in models.items():
        listing = content.listings[locale]
        locales[locale] = {
            "name": listing.name,
            "summary": listing.summary,
            "description": listing.description,
            "examplePhrases": make_phrases(content.example_phrases, model),
            "keywords": list(listing.keywords),
            "smallIconUri": icon_uri("smallIconUri"),
            "largeIconUri": icon_uri("largeIconUri"),
        }
    privacy: dict[str, Any] = dict(content.compliance)
    if deployment.site is not None:
        urls = {"privacyPolicyUrl": deployment.privacy_url, "termsOfUseUrl": deployment.terms_url}
        privacy["locales"] = {locale: dict(urls) for locale in models}
    custom: dict[str, Any] = {}
    if content.interfaces:
        custom["interfaces"] = [
            apl_interface() if name == "ALEXA_PRESENTATION_APL" else {"type": name}
            for name in content.interfaces
        ]
    manifest: dict[str, Any] = {
        "manifestVersion": MANIFEST_VERSION,
        "publishingInformation": {
            "locales": locales,
            "category": content.category,
            "isAvailableWorldwide": False,
            "distributionCountries": list(content.distribution_countries),
            "distributionMode": "PUBLIC",
            "testingInstructions": content.testing_instructions,
        },
        "privacyAndCompliance": privacy,
        "apis": {"custom": custom},
    }
    if content.permissions:
        manifest["permissions"] = [{"name": name} for name in content.permissions]
    if deployment.endpoint is not None:
        custom["endpoint"] = deployment.endpoint.to_manifest()
        manifest["events"] = {
            "endpoint": deployment.endpoint.to_manifest(),
            "subscriptions": [{"eventName": name} for name in content.events],
        }
    return {"manifest": manifest}
