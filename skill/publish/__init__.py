"""Publishing the skill: the ASK CLI skill package, from sources kept in this folder.

The data flows one way, from what people write to what the Alexa developer console imports:

- ``manifest.yaml`` (the store listing and manifest settings), ``icon.svg`` (the icon) and
  ``legal/`` (the privacy policy and terms of use) are the content; ``publish.yaml`` at the top of
  the repository says where this deployment runs.
- :mod:`~skill.publish.content` and :mod:`~skill.publish.deployment` load them;
  :mod:`~skill.publish.phrases` turns the example phrase specs into phrases from the interaction
  models' own samples; :mod:`~skill.publish.icons` renders the icon;
  :mod:`~skill.publish.manifest` assembles ``skill.json``.
- :mod:`~skill.publish.package` writes ``skill-package/`` (the ASK CLI project's package), the zip
  for import and the static pages, and :mod:`~skill.publish.rules` checks a package as Alexa's
  certification would.

Needs the ``publish`` extra (ask-smapi-model, cairosvg, pillow); the skill at run time does not.
"""
