#!/usr/bin/env node
// read_profile.js runs a real custom skill, built with the official Alexa
// Skills Kit SDK for Node.js (ask-sdk-core + ask-sdk-model, versions pinned
// in package.json), on one request envelope, and prints what the SDK's
// UpsServiceClient returned for each of the four Customer Profile API
// operations.
//
//   node read_profile.js envelope.json     (or the envelope on stdin)
//
// The envelope is what profileapi's admin API returns for
// POST /admin/v1/requests; its context.System carries the apiEndpoint and
// apiAccessToken the SDK calls the service with. Nothing here talks to the
// service directly: the skill is wired exactly as a production skill is,
// with withApiClient(new DefaultApiClient()) and
// handlerInput.serviceClientFactory.getUpsServiceClient(). To trust a local
// CA, set NODE_EXTRA_CA_CERTS, as a skill's operator would.
//
// Output, one JSON object on stdout:
//
//   {
//     "name":         {"ok": true,  "type": "string", "value": "John Smith"},
//     "givenName":    {"ok": true,  "type": "undefined"},                  (204: no value)
//     "email":        {"ok": false, "error": {"name": "ServiceError", "statusCode": 403,
//                                            "message": "...", "response": {...}}},
//     "mobileNumber": {"ok": true,  "type": "object", "value": {"countryCode": "+91", ...}},
//     "speech":       "<speak>...</speak>"   (the skill's answer, proving the full round trip)
//   }
//
// "type" is JavaScript's typeof of what the SDK handed the skill, so a
// caller can tell a string from an object (or undefined) exactly.
//
// Exit status: 0 when the skill ran (whatever the service answered), 1 when
// the skill itself failed.
'use strict';

const fs = require('fs');
const Alexa = require('ask-sdk-core');

// The four operations, in the order a skill would typically call them.
const OPERATIONS = [
  ['name', 'getProfileName'],
  ['givenName', 'getProfileGivenName'],
  ['email', 'getProfileEmail'],
  ['mobileNumber', 'getProfileMobileNumber'],
];

function describeError(err) {
  const e = { name: err && err.name, message: err && err.message };
  // The SDK's ServiceError (ask-sdk-model BaseServiceClient.invoke) carries
  // the HTTP status and the parsed error body.
  if (err && err.statusCode !== undefined) e.statusCode = err.statusCode;
  if (err && err.response !== undefined) e.response = err.response;
  return e;
}

const results = {};

const LaunchRequestHandler = {
  canHandle(handlerInput) {
    return Alexa.getRequestType(handlerInput.requestEnvelope) === 'LaunchRequest';
  },
  async handle(handlerInput) {
    const ups = handlerInput.serviceClientFactory.getUpsServiceClient();
    for (const [field, method] of OPERATIONS) {
      try {
        const value = await ups[method]();
        results[field] = { ok: true, type: typeof value, value };
      } catch (err) {
        results[field] = { ok: false, error: describeError(err) };
      }
    }
    const given = results.givenName && results.givenName.ok && typeof results.givenName.value === 'string'
      ? results.givenName.value
      : 'there';
    return handlerInput.responseBuilder.speak(`Hello, ${given}!`).getResponse();
  },
};

// Like a production skill: anything the handler did not catch ends here.
const ErrorHandler = {
  canHandle() {
    return true;
  },
  handle(handlerInput, error) {
    results.skillError = describeError(error);
    return handlerInput.responseBuilder.speak('Sorry, something went wrong.').getResponse();
  },
};

function readEnvelope() {
  const arg = process.argv[2];
  const text = arg && arg !== '-' ? fs.readFileSync(arg, 'utf8') : fs.readFileSync(0, 'utf8');
  return JSON.parse(text);
}

async function main() {
  const envelope = readEnvelope();
  const skill = Alexa.SkillBuilders.custom()
    .withSkillId(envelope.context.System.application.applicationId)
    .addRequestHandlers(LaunchRequestHandler)
    .addErrorHandlers(ErrorHandler)
    .withApiClient(new Alexa.DefaultApiClient())
    .create();
  const response = await skill.invoke(envelope);
  const speech = response && response.response && response.response.outputSpeech;
  results.speech = speech ? speech.ssml || speech.text : undefined;
  process.stdout.write(JSON.stringify(results) + '\n');
  if (results.skillError) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`read_profile.js: ${err && err.stack ? err.stack : err}\n`);
  process.exitCode = 1;
});
