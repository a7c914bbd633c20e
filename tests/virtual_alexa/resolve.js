#!/usr/bin/env node
// Resolve utterances through virtual-alexa against a running webhook, and print what was sent.
//
//   node resolve.js <skill-url> <interaction-model.json> <locale> [--no-launch-workaround] < in.json
//
// stdin: a JSON list of utterances. stdout: one JSON object per utterance, in order (JSON lines):
//
//   {"utterance": "hold for eight breaths", "type": "IntentRequest",
//    "intent": "SetHoldLengthIntent", "slots": {"breaths": {"value": "eight", "id": null}},
//    "sample": "hold for {breaths} breaths", "via": "utter", "answered": true, "error": null}
//
// - `intent` and `slots` are read from the request virtual-alexa actually POSTed to the skill
//   (captured with its request filter). Both are null when virtual-alexa could not match the
//   utterance to any sample of the model (`utter` throws "Unable to match utterance").
// - `slots` holds the filled slots only: `value` is the words as virtual-alexa sends them (numbers
//   stay words: "eight"), `id` the entity-resolution id of a custom slot type (null otherwise).
// - `sample` is the sample (or one of virtual-alexa's own phrases for a built-in intent, such as
//   "skip" for AMAZON.NextIntent) that virtual-alexa's matcher picks for the utterance as said.
// - `answered` says whether the webhook answered 200 with a JSON body; `error` is why not.
//
// virtual-alexa's `utter` turns any utterance that merely *contains* "ask", "open", "launch",
// "tell" or "talk to" ("tell me which leg", "what's the task") into a LaunchRequest, and "exit"
// into a SessionEndedRequest, before it looks at the model. Inside a session real Alexa does not do
// that, so unless --no-launch-workaround is given, such an utterance (one that does not say the
// invocation name) is matched again with virtual-alexa's own matcher (virtual-core's Utterance,
// the one `utter` uses) and sent with `alexa.intend`; its line then says "via": "intend".

"use strict";

const fs = require("fs");

// aws-sdk v2 (a dependency of virtual-alexa, unused here) prints a notice on load otherwise.
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = "1";
const { VirtualAlexa } = require("virtual-alexa");
const { Utterance } = require("virtual-core");

function usage(message) {
  process.stderr.write(`resolve.js: ${message}\n`);
  process.stderr.write(
    "usage: node resolve.js <skill-url> <interaction-model.json> <locale> " +
      "[--no-launch-workaround] < utterances.json\n",
  );
  process.exit(2);
}

function parseArgs(argv) {
  const flags = argv.filter((a) => a.startsWith("--"));
  const positional = argv.filter((a) => !a.startsWith("--"));
  for (const flag of flags) {
    if (flag !== "--no-launch-workaround") usage(`unknown option ${flag}`);
  }
  if (positional.length !== 3) usage("expected three arguments");
  const [url, modelPath, locale] = positional;
  if (!/^https?:\/\//.test(url)) usage(`not an http(s) URL: ${url}`);
  if (!fs.existsSync(modelPath)) usage(`no interaction model at ${modelPath}`);
  return { url, modelPath, locale, workaround: !flags.includes("--no-launch-workaround") };
}

function readUtterances() {
  let parsed;
  try {
    parsed = JSON.parse(fs.readFileSync(0, "utf8"));
  } catch (err) {
    usage(`stdin is not JSON: ${err.message}`);
  }
  if (!Array.isArray(parsed) || !parsed.every((u) => typeof u === "string")) {
    usage("stdin must be a JSON list of strings");
  }
  return parsed;
}

// The filled slots of an intent request: name -> {value, id}.
function slotsOf(intent) {
  const slots = {};
  for (const [name, slot] of Object.entries(intent.slots || {})) {
    if (slot === undefined || slot === null || slot.value === undefined) continue;
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

function describe(utterance, captured, sample, via, answered, error) {
  const request = captured ? captured.request : null;
  const intent = request && request.intent ? request.intent : null;
  return {
    utterance,
    type: request ? request.type : null,
    intent: intent ? intent.name : null,
    slots: intent ? slotsOf(intent) : null,
    sample: intent ? sample : null,
    via: request ? via : null,
    answered,
    error,
  };
}

async function send(call) {
  // -> [answered, error]; the request itself is captured by the filter.
  try {
    const reply = await call();
    if (reply && typeof reply === "object" && reply.response !== undefined) return [true, null];
    return [false, "the skill answered without a response object"];
  } catch (err) {
    return [false, String(err && err.message ? err.message : err)];
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const utterances = readUtterances();
  const model = JSON.parse(fs.readFileSync(args.modelPath, "utf8"));
  const invocation = model.interactionModel.languageModel.invocationName.toLowerCase();

  const alexa = VirtualAlexa.Builder()
    .skillURL(args.url)
    .interactionModelFile(args.modelPath)
    .locale(args.locale)
    .create();
  let captured = null;
  alexa.filter((request) => {
    captured = JSON.parse(JSON.stringify(request));
  });

  for (const utterance of utterances) {
    captured = null;
    let [answered, error] = await send(() => alexa.utter(utterance));
    let via = "utter";
    const hijacked =
      captured !== null &&
      captured.request.type !== "IntentRequest" &&
      !utterance.toLowerCase().includes(invocation);
    const match = new Utterance(alexa.context().interactionModel(), utterance);
    const sample = match.matched() ? match.matchedSample.phrase : null;
    if (hijacked && args.workaround) {
      captured = null;
      via = "intend";
      if (match.matched()) {
        [answered, error] = await send(() => alexa.intend(match.intent(), match.toJSON()));
      } else {
        [answered, error] = [false, `Unable to match utterance: ${utterance}`];
      }
    }
    // captured is null when nothing was sent: no sample matched (or the call failed before).
    process.stdout.write(JSON.stringify(describe(utterance, captured, sample, via, answered, error)) + "\n");
  }
}

main().catch((err) => {
  process.stderr.write(`resolve.js: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
