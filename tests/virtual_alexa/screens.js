#!/usr/bin/env node
// Drive the running webhook through virtual-alexa as a device with a screen (or without one),
// and print what came back for each step.
//
//   node screens.js <skill-url> <interaction-model.json> <locale> < script.json
//
// stdin: {"device": {"apl": "2024.2", "viewport": {...}}, "steps": [...]}. With `apl`, every
// request declares the Alexa.Presentation.APL interface with that runtime version; with
// `viewport`, it carries it as context.Viewport (virtual-alexa's own Device can only declare an
// interface as {}, with no runtime version and no viewport, so a request filter adds them).
// A step is {"launch": true}, {"utter": "next"} or {"touch": ["next"]}: a touch is the
// Alexa.Presentation.APL.UserEvent a TouchWrapper's SendEvent makes, sent in the open session
// (virtual-alexa builds requests of types it does not know without a session; the filter adds it).
//
// stdout: one JSON object per step: {"type", "intent", "speech", "document" (the RenderDocument
// directive or null), "card" (or null), "size" (bytes of the response body), "end"}.

"use strict";

const fs = require("fs");

process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = "1";
const { VirtualAlexa } = require("virtual-alexa");

const USER_EVENT = "Alexa.Presentation.APL.UserEvent";

function usage(message) {
  process.stderr.write(`screens.js: ${message}\n`);
  process.stderr.write("usage: node screens.js <skill-url> <interaction-model.json> <locale> < script.json\n");
  process.exit(2);
}

async function main() {
  const [url, modelPath, locale] = process.argv.slice(2);
  if (!url || !modelPath || !locale) usage("expected three arguments");
  const script = JSON.parse(fs.readFileSync(0, "utf8"));
  const device = script.device || {};
  const alexa = VirtualAlexa.Builder()
    .skillURL(url)
    .interactionModelFile(modelPath)
    .locale(locale)
    .create();
  let sent = null;
  alexa.filter((request) => {
    const system = request.context.System;
    if (device.apl) {
      system.device.supportedInterfaces["Alexa.Presentation.APL"] = {
        runtime: { maxVersion: device.apl },
      };
    }
    if (device.viewport) request.context.Viewport = device.viewport;
    if (request.request.type === USER_EVENT) {
      const context = alexa.context();
      const session = context.session();
      request.session = {
        new: false,
        sessionId: session.id(),
        application: { applicationId: context.applicationID() },
        attributes: session.attributes(),
        user: { userId: context.user().id() },
      };
    }
    sent = JSON.parse(JSON.stringify(request));
  });

  for (const step of script.steps) {
    sent = null;
    let reply;
    if (step.launch) {
      reply = await alexa.launch();
    } else if (step.utter) {
      reply = await alexa.utter(step.utter);
    } else if (step.touch) {
      reply = await alexa
        .request()
        .requestType(USER_EVENT)
        .set("request.token", "post-run-yoga")
        .set("request.arguments", step.touch)
        .set("request.source", { type: "TouchWrapper", handler: "Press", id: "" })
        .send();
    } else {
      usage(`unknown step ${JSON.stringify(step)}`);
    }
    const response = (reply && reply.response) || {};
    const directives = response.directives || [];
    const document = directives.find((d) => d.type === "Alexa.Presentation.APL.RenderDocument");
    process.stdout.write(
      JSON.stringify({
        type: sent ? sent.request.type : null,
        intent: sent && sent.request.intent ? sent.request.intent.name : null,
        speech: response.outputSpeech ? response.outputSpeech.ssml : null,
        document: document || null,
        card: response.card || null,
        size: Buffer.byteLength(JSON.stringify(reply)),
        end: response.shouldEndSession === true,
      }) + "\n",
    );
  }
}

main().catch((err) => {
  process.stderr.write(`screens.js: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
