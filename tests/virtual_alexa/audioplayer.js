#!/usr/bin/env node
// Drive the running webhook through virtual-alexa's emulated audio player (a device that
// declares AudioPlayer), and print every request it sent and every answer it got, per step.
//
//   node audioplayer.js <skill-url> <interaction-model.json> <locale> < steps.json
//
// stdin: a JSON list of steps:
//   {"launch": true}                  open the skill
//   {"utter": "pause"}                say something (while audio plays, virtual-alexa stops it
//                                     first and plays on after, unless the answer stopped it)
//   {"advance": n}                    n times: PlaybackNearlyFinished, then PlaybackFinished (the
//                                     player then starts the next stream it was given, if any)
//   {"advance": "end"}                the same until the player has nothing left to play
//   {"offset": ms}                    the playing stream is now ms into its audio
//   {"controller": "NextCommandIssued"}  a PlaybackController request, with context.AudioPlayer
//                                     (virtual-alexa only adds it to requests with a session)
//
// stdout: one JSON object per step: {"exchanges": [{"request": {type, intent, token, offset,
// context}, "response": <the skill's response object>}], "player": {activity, token, offset,
// queued}} where `context` is the request's context.AudioPlayer (or null).

"use strict";

const fs = require("fs");

process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = "1";
const { VirtualAlexa } = require("virtual-alexa");
const { AudioPlayerActivity } = require("virtual-alexa/lib/src/audioPlayer/AudioPlayer");

const MAX_STREAMS = 1000; // a whole session is about a hundred streams: more means a loop

function usage(message) {
  process.stderr.write(`audioplayer.js: ${message}\n`);
  process.stderr.write(
    "usage: node audioplayer.js <skill-url> <interaction-model.json> <locale> < steps.json\n",
  );
  process.exit(2);
}

function playerState(player) {
  const playing = player.playing();
  return {
    activity: AudioPlayerActivity[player.playerActivity()],
    token: playing ? playing.stream.token : null,
    offset: playing ? playing.stream.offsetInMilliseconds || 0 : null,
    queued: player._queue.length,
  };
}

async function main() {
  const [url, modelPath, locale] = process.argv.slice(2);
  if (!url || !modelPath || !locale) usage("expected three arguments");
  const steps = JSON.parse(fs.readFileSync(0, "utf8"));
  if (!Array.isArray(steps)) usage("stdin must be a JSON list of steps");
  const alexa = VirtualAlexa.Builder()
    .skillURL(url)
    .interactionModelFile(modelPath)
    .locale(locale)
    .create();
  const player = alexa.audioPlayer();

  // Every request (in the order sent) and its answer: the interactor POSTs to the webhook.
  let exchanges = [];
  const pending = new Set();
  const settled = async () => {
    while (pending.size) await Promise.all([...pending]);
  };
  const interactor = alexa.interactor();
  const invoke = interactor.invoke.bind(interactor);
  interactor.invoke = async (json) => {
    const request = json.request;
    const seen = {
      type: request.type,
      intent: request.intent ? request.intent.name : null,
      token: request.token === undefined ? null : request.token,
      offset: request.offsetInMilliseconds === undefined ? null : request.offsetInMilliseconds,
      context: json.context.AudioPlayer || null,
    };
    const exchange = { request: seen, response: null };
    exchanges.push(exchange); // in the order sent: a finished stream's report and the next
    const call = invoke(json); // one's start are in flight together
    pending.add(call);
    try {
      const reply = await call;
      exchange.response = reply ? reply.response : null;
      return reply;
    } finally {
      pending.delete(call);
    }
  };

  for (const step of steps) {
    exchanges = [];
    if (step.launch) {
      await alexa.launch();
    } else if (step.utter !== undefined) {
      await alexa.utter(step.utter);
    } else if (step.offset !== undefined) {
      player.playbackOffset(step.offset);
    } else if (step.controller !== undefined) {
      const request = alexa.request().requestType(`PlaybackController.${step.controller}`);
      const state = playerState(player);
      request.set("context.AudioPlayer", {
        playerActivity: state.activity,
        token: state.token,
        offsetInMilliseconds: state.offset,
      });
      await request.send();
    } else if (step.advance !== undefined) {
      const times = step.advance === "end" ? MAX_STREAMS : step.advance;
      for (let i = 0; i < times && player.isPlaying(); i++) {
        await player.playbackNearlyFinished();
        await player.playbackFinished();
        await settled();
      }
      if (step.advance === "end" && player.isPlaying()) throw new Error("the queue never ended");
    } else {
      usage(`unknown step ${JSON.stringify(step)}`);
    }
    await settled();
    process.stdout.write(JSON.stringify({ exchanges, player: playerState(player) }) + "\n");
  }
}

main().catch((err) => {
  process.stderr.write(`audioplayer.js: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
