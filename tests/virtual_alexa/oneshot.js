#!/usr/bin/env node
// Say whole phrases, as a runner says them to a device, through virtual-alexa against a running
// webhook: each phrase in a new session on a new virtual device, as with a first request.
//
//   node oneshot.js <skill-url> <interaction-models-dir> < phrases.json
//
// stdin: a JSON list of {"locale": "en-GB", "phrase": "Alexa, ask post run yoga to ..."}.
// The wake word ("Alexa,") and the final full stop or question mark are not part of what a
// device sends on, so they are taken off; the rest goes to virtual-alexa's `utter` word for word,
// with the locale's interaction model (<dir>/<locale>.json). virtual-alexa opens the skill for
// "open <invocation name>" and sends "ask <invocation name> to <request>" as the request.
//
// stdout: one JSON object per phrase, in order (JSON lines):
//
//   {"locale": "en-GB", "phrase": "...", "said": "ask post run yoga to ...",
//    "type": "IntentRequest", "intent": "FocusIntent", "slots": {"area": {"value": "hamstrings",
//    "id": "hamstrings"}}, "newSession": true, "speech": "<speak>...</speak>",
//    "reprompt": "<speak>...</speak>", "shouldEndSession": false, "error": null}
//
// `type`, `intent`, `slots` and `newSession` are read from the request virtual-alexa actually
// POSTed (captured with its request filter); `speech`, `reprompt` and `shouldEndSession` from the
// webhook's answer. `error` says why there is no answer (no sample matched, HTTP error).

"use strict";

const fs = require("fs");
const path = require("path");

process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = "1";
const { VirtualAlexa } = require("virtual-alexa");

function usage(message) {
  process.stderr.write(`oneshot.js: ${message}\n`);
  process.stderr.write("usage: node oneshot.js <skill-url> <interaction-models-dir> < phrases.json\n");
  process.exit(2);
}

function slotsOf(intent) {
  const slots = {};
  for (const [name, slot] of Object.entries(intent.slots || {})) {
    if (!slot || slot.value === undefined) continue;
    let id = null;
    const authorities = (slot.resolutions && slot.resolutions.resolutionsPerAuthority) || [];
    for (const authority of authorities) {
      if (authority.status && authority.status.code === "ER_SUCCESS_MATCH") {
        id = authority.values[0].value.id;
        break;
      }
    }
    slots[name] = { value: slot.value, id };
  }
  return slots;
}

function speechOf(response, key) {
  if (!response) return null;
  const holder = key === "reprompt" ? response.reprompt : response;
  const speech = holder && holder.outputSpeech;
  return speech ? speech.ssml || speech.text || null : null;
}

async function say(url, modelsDir, item) {
  const said = item.phrase.replace(/^alexa,?\s*/i, "").replace(/[.?!]\s*$/, "");
  const alexa = VirtualAlexa.Builder()
    .skillURL(url)
    .interactionModelFile(path.join(modelsDir, `${item.locale}.json`))
    .locale(item.locale)
    .create();
  let captured = null;
  alexa.filter((request) => {
    captured = JSON.parse(JSON.stringify(request));
  });
  let reply = null;
  let error = null;
  try {
    reply = await alexa.utter(said);
  } catch (err) {
    error = String(err && err.message ? err.message : err);
  }
  const request = captured ? captured.request : null;
  const intent = request && request.intent ? request.intent : null;
  const response = reply && reply.response ? reply.response : null;
  return {
    locale: item.locale,
    phrase: item.phrase,
    said,
    type: request ? request.type : null,
    intent: intent ? intent.name : null,
    slots: intent ? slotsOf(intent) : null,
    newSession: captured && captured.session ? captured.session.new : null,
    speech: speechOf(response, "speech"),
    reprompt: speechOf(response, "reprompt"),
    shouldEndSession: response ? response.shouldEndSession : null,
    error: error || (response ? null : "the skill answered without a response object"),
  };
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length !== 2) usage("expected two arguments");
  const [url, modelsDir] = args;
  if (!/^https?:\/\//.test(url)) usage(`not an http(s) URL: ${url}`);
  if (!fs.existsSync(modelsDir)) usage(`no folder ${modelsDir}`);
  let items;
  try {
    items = JSON.parse(fs.readFileSync(0, "utf8"));
  } catch (err) {
    usage(`stdin is not JSON: ${err.message}`);
  }
  if (!Array.isArray(items) || !items.every((i) => i && typeof i.phrase === "string")) {
    usage("stdin must be a JSON list of {locale, phrase}");
  }
  for (const item of items) {
    process.stdout.write(JSON.stringify(await say(url, modelsDir, item)) + "\n");
  }
}

main().catch((err) => {
  process.stderr.write(`oneshot.js: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
