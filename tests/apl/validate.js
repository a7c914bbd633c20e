#!/usr/bin/env node
// Lint APL documents with apl-suggester's StaticAplTemplateValidator (Alexa's own APL linter).
//
//   node validate.js < documents.json
//
// stdin: a JSON object, name -> APL document (as the skill sends it).
// stdout: one JSON object, name -> list of {level, path, message}; level is "ERROR" or "WARNING".
// The documents import no packages, so the validator never fetches anything.

"use strict";

const fs = require("fs");
const { StaticAplTemplateValidator } = require("apl-suggester");

async function main() {
  const documents = JSON.parse(fs.readFileSync(0, "utf8"));
  const validator = new StaticAplTemplateValidator();
  const out = {};
  for (const [name, document] of Object.entries(documents)) {
    const found = await validator.validate(document);
    out[name] = found.map((info) => ({
      level: info.level || "ERROR",
      path: info.path,
      message: info.errorMessage,
    }));
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((err) => {
  process.stderr.write(`validate.js: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
