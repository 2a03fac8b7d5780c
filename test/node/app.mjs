#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
//
// Switchboard integration-test "customer app": a real ACS Call Automation
// application built on @azure/communication-call-automation 1.6.0 that Go
// tests drive over a small JSON control API (see README.md beside this file).
//
//   node app.mjs --port 0 --endpoint https://127.0.0.1:8443/ --key <base64>
//                --events-file /tmp/x.jsonl [--jwks-url https://.../calling/keys]
//                [--jwt-issuer ISS] [--jwt-audience AUD] [--host 127.0.0.1]
//
// Prints exactly one line "READY <port>" on stdout once it listens. Diagnostics
// go to stderr.

import http from "node:http";
import https from "node:https";
import fs from "node:fs";
import crypto from "node:crypto";
import { URL } from "node:url";
import {
  CallAutomationClient,
  parseCallAutomationEvent,
} from "@azure/communication-call-automation";
import { createIdentifierFromRawId } from "@azure/communication-common";

// ---------------------------------------------------------------- arguments

function parseArgs(argv) {
  const out = {
    port: 0,
    host: "127.0.0.1",
    endpoint: "",
    key: "",
    eventsFile: "",
    jwksUrl: "",
    jwtIssuer: "",
    jwtAudience: "",
  };
  const names = {
    "--port": "port",
    "--host": "host",
    "--endpoint": "endpoint",
    "--key": "key",
    "--events-file": "eventsFile",
    "--jwks-url": "jwksUrl",
    "--jwt-issuer": "jwtIssuer",
    "--jwt-audience": "jwtAudience",
  };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let v;
    const eq = a.indexOf("=");
    if (a.startsWith("--") && eq > 0) {
      v = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const name = names[a];
    if (!name) throw new Error(`unknown argument ${a}`);
    if (v === undefined) {
      if (i + 1 >= argv.length) throw new Error(`missing value for ${a}`);
      v = argv[++i];
    }
    out[name] = v;
  }
  out.port = Number(out.port);
  if (!Number.isInteger(out.port) || out.port < 0 || out.port > 65535) {
    throw new Error(`bad --port ${out.port}`);
  }
  if (!out.endpoint) throw new Error("--endpoint is required");
  if (!out.key) throw new Error("--key is required");
  if (!out.eventsFile) throw new Error("--events-file is required");
  return out;
}

let args;
try {
  args = parseArgs(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`app.mjs: ${e.message}\n`);
  process.exit(2);
}

function log(...parts) {
  process.stderr.write(`[app.mjs ${new Date().toISOString()}] ${parts.join(" ")}\n`);
}

// ---------------------------------------------------------------- SDK client

const endpointUrl = new URL(args.endpoint);
const connectionString = `endpoint=${args.endpoint};accesskey=${args.key}`;
// No client options for https: TLS trust comes from NODE_EXTRA_CA_CERTS, as it
// would for a customer. Plain http needs allowInsecureConnection.
const client =
  endpointUrl.protocol === "http:"
    ? new CallAutomationClient(connectionString, { allowInsecureConnection: true })
    : new CallAutomationClient(connectionString);

// ---------------------------------------------------------------- JSON helpers

// JSON that survives SDK objects: Dates as ISO strings, no functions, no
// cycles, no pipeline internals.
function toPlain(value) {
  const seen = new WeakSet();
  const json = JSON.stringify(value, function (key, v) {
    if (typeof v === "function" || typeof v === "symbol") return undefined;
    if (typeof v === "bigint") return v.toString();
    if (v instanceof Date) return v.toISOString();
    if (v && typeof v === "object") {
      if (seen.has(v)) return undefined;
      seen.add(v);
    }
    return v;
  });
  return json === undefined ? null : JSON.parse(json);
}

function errorToPlain(e) {
  if (e === null || e === undefined) return { name: "Error", message: String(e) };
  if (typeof e !== "object") {
    // the SDK throws bare strings in a few places, e.g.
    // "callConnectionProperties / callConnectionId is missing in createCall result"
    return { name: "string", message: String(e) };
  }
  const out = {
    name: e.name,
    message: e.message,
  };
  if (e.statusCode !== undefined) out.statusCode = e.statusCode;
  if (e.code !== undefined) out.code = e.code;
  if (e.details !== undefined) out.details = toPlain(e.details);
  if (e.response && typeof e.response.bodyAsText === "string") {
    out.responseBody = e.response.bodyAsText;
  }
  return out;
}

function sendJSON(res, status, body, extraHeaders = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...extraHeaders,
  });
  res.end(text);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

// ---------------------------------------------------------------- event store

const events = [];
let lastSeq = 0;

function loadEventsFile() {
  let text = "";
  try {
    text = fs.readFileSync(args.eventsFile, "utf8");
  } catch (e) {
    if (e.code !== "ENOENT") throw e;
    return;
  }
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const ev = JSON.parse(line);
      events.push(ev);
      if (typeof ev.seq === "number" && ev.seq > lastSeq) lastSeq = ev.seq;
    } catch {
      // a line cut short by a kill: skip it
    }
  }
  log(`loaded ${events.length} events from ${args.eventsFile} (last seq ${lastSeq})`);
}

function record(item) {
  const ev = { seq: ++lastSeq, receivedAt: new Date().toISOString(), ...item };
  events.push(ev);
  // synchronous append: a record is on disk before the webhook is answered,
  // so it survives the app being killed.
  fs.appendFileSync(args.eventsFile, JSON.stringify(ev) + "\n");
  return ev;
}

// ---------------------------------------------------------------- JWT / JWKS

let jwksCache = new Map(); // kid -> KeyObject
let jwksFetchedAt = 0;

function httpGetText(urlString) {
  return new Promise((resolve, reject) => {
    const u = new URL(urlString);
    const mod = u.protocol === "https:" ? https : http;
    const req = mod.get(u, { headers: { accept: "application/json" } }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        if (res.statusCode !== 200) {
          reject(new Error(`GET ${urlString}: HTTP ${res.statusCode}: ${body.slice(0, 200)}`));
        } else {
          resolve(body);
        }
      });
    });
    req.setTimeout(10000, () => req.destroy(new Error(`GET ${urlString}: timeout`)));
    req.on("error", reject);
  });
}

async function fetchJWKS() {
  const body = await httpGetText(args.jwksUrl);
  const doc = JSON.parse(body);
  if (!doc || !Array.isArray(doc.keys)) throw new Error("JWKS has no keys array");
  const m = new Map();
  for (const jwk of doc.keys) {
    if (!jwk || !jwk.kid) continue;
    try {
      m.set(jwk.kid, crypto.createPublicKey({ key: jwk, format: "jwk" }));
    } catch (e) {
      log(`JWKS key ${jwk.kid} not importable: ${e.message}`);
    }
  }
  jwksCache = m;
  jwksFetchedAt = Date.now();
}

function b64urlJSON(part) {
  return JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
}

// Returns {jwtValid, jwtError?, jwtHeader?, jwtClaims?}.
async function verifyJWT(authorization) {
  if (!authorization) return { jwtValid: false, jwtError: "no Authorization header" };
  const m = /^Bearer\s+(.+)$/i.exec(authorization.trim());
  if (!m) return { jwtValid: false, jwtError: "Authorization is not a Bearer token" };
  const token = m[1].trim();
  const parts = token.split(".");
  if (parts.length !== 3) return { jwtValid: false, jwtError: "token is not a JWS compact serialization" };
  let header, claims;
  try {
    header = b64urlJSON(parts[0]);
    claims = b64urlJSON(parts[1]);
  } catch (e) {
    return { jwtValid: false, jwtError: `undecodable token: ${e.message}` };
  }
  const out = { jwtValid: false, jwtHeader: header, jwtClaims: claims };
  if (header.alg !== "RS256") return { ...out, jwtError: `alg ${header.alg} is not RS256` };
  if (!header.kid) return { ...out, jwtError: "token has no kid" };
  if (!args.jwksUrl) return { ...out, jwtError: "no --jwks-url configured" };
  let key = jwksCache.get(header.kid);
  if (!key) {
    // unknown kid: (re)fetch, at most every 200 ms, so key rotation works
    if (Date.now() - jwksFetchedAt > 200 || jwksFetchedAt === 0) {
      try {
        await fetchJWKS();
      } catch (e) {
        return { ...out, jwtError: `JWKS fetch failed: ${e.message}` };
      }
    }
    key = jwksCache.get(header.kid);
  }
  if (!key) return { ...out, jwtError: `kid ${header.kid} not in JWKS` };
  const ok = crypto.verify(
    "sha256",
    Buffer.from(`${parts[0]}.${parts[1]}`),
    key,
    Buffer.from(parts[2], "base64url"),
  );
  if (!ok) return { ...out, jwtError: "bad signature" };
  const now = Math.floor(Date.now() / 1000);
  const leeway = 5;
  if (typeof claims.exp !== "number") return { ...out, jwtError: "no exp claim" };
  if (claims.exp + leeway < now) return { ...out, jwtError: `expired (exp ${claims.exp}, now ${now})` };
  if (typeof claims.nbf === "number" && claims.nbf - leeway > now) {
    return { ...out, jwtError: `not yet valid (nbf ${claims.nbf}, now ${now})` };
  }
  if (args.jwtIssuer && claims.iss !== args.jwtIssuer) {
    return { ...out, jwtError: `iss ${claims.iss} != ${args.jwtIssuer}` };
  }
  if (args.jwtAudience) {
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.includes(args.jwtAudience)) {
      return { ...out, jwtError: `aud ${JSON.stringify(claims.aud)} lacks ${args.jwtAudience}` };
    }
  }
  return { ...out, jwtValid: true };
}

// ---------------------------------------------------------------- webhooks

// prefix -> mode: "ok" | "fail503" | "failNNN" | "hang" | "delay:<ms>"
const modes = new Map([
  ["/callbacks", "ok"],
  ["/eventgrid", "ok"],
]);
const stats = { failed: {}, hung: {}, delivered: {} };
const hungResponses = new Set();

function modeFor(path) {
  let best = "";
  for (const prefix of modes.keys()) {
    if (path.startsWith(prefix) && prefix.length > best.length) best = prefix;
  }
  return best ? { prefix: best, mode: modes.get(best) } : { prefix: "", mode: "ok" };
}

function bump(map, prefix) {
  map[prefix] = (map[prefix] || 0) + 1;
}

function recordedHeaders(req) {
  const h = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (k === "authorization") {
      h[k] = `${String(v).split(/\s+/)[0]} <redacted>`;
    } else {
      h[k] = v;
    }
  }
  h.hasAuthorization = req.headers.authorization !== undefined;
  return h;
}

async function handleWebhook(req, res, path, kind) {
  const body = await readBody(req);
  const { prefix, mode } = modeFor(path);
  const failMatch = /^fail(\d{3})$/.exec(mode);
  if (failMatch) {
    bump(stats.failed, prefix);
    res.writeHead(Number(failMatch[1]), { "content-type": "text/plain" });
    res.end(`test app mode ${mode}\n`);
    return;
  }
  const hung = mode === "hang";
  const base = {
    path,
    method: req.method,
    source: kind,
    headers: recordedHeaders(req),
  };
  if (hung) base.hung = true;

  let parsedBody;
  try {
    parsedBody = JSON.parse(body.toString("utf8"));
  } catch (e) {
    record({ ...base, bodyError: `invalid JSON: ${e.message}`, rawText: body.toString("utf8").slice(0, 10000) });
    if (hung) return hang(res, prefix);
    sendJSON(res, 400, { error: "invalid JSON" });
    return;
  }
  const list = Array.isArray(parsedBody) ? parsedBody : [parsedBody];
  const batch = { batchSize: list.length, isArray: Array.isArray(parsedBody) };

  if (kind === "eventgrid") {
    const validation = list.find(
      (ev) => ev && ev.eventType === "Microsoft.EventGrid.SubscriptionValidationEvent",
    );
    const isValidation =
      String(req.headers["aeg-event-type"] || "").toLowerCase() === "subscriptionvalidation" ||
      validation !== undefined;
    if (isValidation) {
      const ev = validation || list[0] || {};
      const code = ev && ev.data ? ev.data.validationCode : undefined;
      record({
        ...base,
        ...batch,
        batchIndex: 0,
        raw: ev,
        eventType: ev && ev.eventType,
        parsedKind: "SubscriptionValidation",
        parsed: ev && ev.data,
        validationCode: code,
      });
      if (hung) return hang(res, prefix);
      sendJSON(res, 200, { validationResponse: code });
      bump(stats.delivered, prefix);
      return;
    }
    list.forEach((ev, i) => {
      const type = ev && (ev.eventType || ev.type);
      record({
        ...base,
        ...batch,
        batchIndex: i,
        raw: ev,
        eventType: type,
        parsedKind: typeof type === "string" ? type.replace(/^Microsoft\.Communication\./, "") : undefined,
        parsed: ev && ev.data,
      });
    });
  } else {
    const jwt = await verifyJWT(req.headers.authorization);
    list.forEach((ev, i) => {
      const item = { ...base, ...batch, batchIndex: i, raw: ev, eventType: ev && ev.type, ...jwt };
      try {
        // the SDK parser only looks at element [0] of an array, so parse
        // each CloudEvent on its own
        const parsed = parseCallAutomationEvent(ev);
        item.parsedKind = parsed.kind;
        item.parsed = toPlain(parsed);
      } catch (e) {
        item.parseError = e && e.message ? e.message : String(e);
      }
      record(item);
    });
  }
  if (hung) return hang(res, prefix);
  if (mode.startsWith("delay:")) {
    const ms = Number(mode.slice("delay:".length)) || 0;
    setTimeout(() => {
      res.writeHead(200);
      res.end();
    }, ms);
    bump(stats.delivered, prefix);
    return;
  }
  res.writeHead(200);
  res.end();
  bump(stats.delivered, prefix);
}

function hang(res, prefix) {
  bump(stats.hung, prefix);
  hungResponses.add(res);
  res.on("close", () => hungResponses.delete(res));
}

// Event Grid CloudEvents-schema handshake (OPTIONS + WebHook-Request-Origin).
function handleOptions(req, res) {
  const origin = req.headers["webhook-request-origin"];
  const headers = { allow: "POST, OPTIONS" };
  if (origin) headers["webhook-allowed-origin"] = origin;
  res.writeHead(200, headers);
  res.end();
}

// ---------------------------------------------------------------- ops

function identifierFromRawId(rawId) {
  if (typeof rawId !== "string" || !rawId) throw new Error(`rawId must be a non-empty string, got ${JSON.stringify(rawId)}`);
  return createIdentifierFromRawId(rawId);
}

function phoneNumber(value) {
  if (value === undefined || value === null || value === "") return undefined;
  const v = String(value).replace(/^4:/, "");
  return { phoneNumber: v };
}

function opOptions(a) {
  const o = {};
  if (a.operationContext !== undefined) o.operationContext = a.operationContext;
  if (a.operationCallbackUrl !== undefined) o.operationCallbackUrl = a.operationCallbackUrl;
  if (a.timeoutMs) o.abortSignal = AbortSignal.timeout(Number(a.timeoutMs));
  return o;
}

function callInvite(a, key = "target") {
  const invite = { targetParticipant: identifierFromRawId(a[key]) };
  const src = phoneNumber(a.sourceCallerIdNumber);
  if (src) invite.sourceCallIdNumber = src;
  if (a.sourceDisplayName !== undefined) invite.sourceDisplayName = a.sourceDisplayName;
  if (a.voipHeaders) {
    invite.customCallingContext = Object.entries(a.voipHeaders).map(([key, value]) => ({ kind: "voip", key, value }));
  }
  return invite;
}

function playSources(a) {
  const out = [];
  for (const url of a.fileUrls || []) out.push({ kind: "fileSource", url });
  if (a.text) out.push({ kind: "textSource", text: a.text, voiceName: a.voiceName, sourceLocale: a.sourceLocale });
  if (a.ssml) out.push({ kind: "ssmlSource", ssmlText: a.ssml });
  if (out.length === 0) throw new Error("play needs fileUrls, text or ssml");
  return out;
}

function conn(a) {
  if (!a.callConnectionId) throw new Error("callConnectionId is required");
  return client.getCallConnection(a.callConnectionId);
}

const ops = {
  async createCall(a) {
    const options = opOptions(a);
    for (const k of ["mediaStreamingOptions", "transcriptionOptions", "callIntelligenceOptions"]) {
      if (a[k] !== undefined) options[k] = a[k];
    }
    const r = await client.createCall(callInvite(a), a.callbackUrl, options);
    return r.callConnectionProperties;
  },
  async createGroupCall(a) {
    const options = opOptions(a);
    const src = phoneNumber(a.sourceCallerIdNumber);
    if (src) options.sourceCallIdNumber = src;
    if (a.sourceDisplayName !== undefined) options.sourceDisplayName = a.sourceDisplayName;
    const r = await client.createGroupCall((a.targets || []).map(identifierFromRawId), a.callbackUrl, options);
    return r.callConnectionProperties;
  },
  async answerCall(a) {
    const options = opOptions(a);
    for (const k of ["mediaStreamingOptions", "transcriptionOptions", "callIntelligenceOptions"]) {
      if (a[k] !== undefined) options[k] = a[k];
    }
    const r = await client.answerCall(a.incomingCallContext, a.callbackUrl, options);
    return r.callConnectionProperties;
  },
  async connectCall(a) {
    let locator = { kind: "serverCallLocator", id: a.serverCallId };
    if (a.groupCallId) locator = { kind: "groupCallLocator", id: a.groupCallId };
    if (a.roomId) locator = { kind: "roomCallLocator", id: a.roomId };
    const r = await client.connectCall(locator, a.callbackUrl, opOptions(a));
    return r.callConnectionProperties;
  },
  async redirectCall(a) {
    await client.redirectCall(a.incomingCallContext, callInvite(a), opOptions(a));
    return null;
  },
  async rejectCall(a) {
    const options = opOptions(a);
    if (a.reason !== undefined) options.callRejectReason = a.reason;
    await client.rejectCall(a.incomingCallContext, options);
    return null;
  },
  async getCallConnectionProperties(a) {
    return conn(a).getCallConnectionProperties(opOptions(a));
  },
  async hangUp(a) {
    await conn(a).hangUp(Boolean(a.forEveryone), opOptions(a));
    return null;
  },
  async listParticipants(a) {
    let pages = 0;
    const options = {
      ...opOptions(a),
      // called once per HTTP response, i.e. once per page the SDK fetched
      onResponse: (raw) => {
        if (raw && raw.status === 200) pages++;
      },
    };
    const r = await conn(a).listParticipants(options);
    return { participants: r.values || [], pages };
  },
  async getParticipant(a) {
    return conn(a).getParticipant(identifierFromRawId(a.rawId), opOptions(a));
  },
  async addParticipant(a) {
    const options = opOptions(a);
    if (a.invitationTimeoutInSeconds !== undefined) options.invitationTimeoutInSeconds = a.invitationTimeoutInSeconds;
    return conn(a).addParticipant(callInvite(a), options);
  },
  async removeParticipant(a) {
    return conn(a).removeParticipant(identifierFromRawId(a.rawId), opOptions(a));
  },
  async moveParticipants(a) {
    return conn(a).moveParticipants((a.rawIds || []).map(identifierFromRawId), a.fromCall, opOptions(a));
  },
  async cancelAddParticipant(a) {
    return conn(a).cancelAddParticipantOperation(a.invitationId, opOptions(a));
  },
  async muteParticipant(a) {
    return conn(a).muteParticipant(identifierFromRawId(a.rawId), opOptions(a));
  },
  async transferCallToParticipant(a) {
    const options = opOptions(a);
    if (a.transferee) options.transferee = identifierFromRawId(a.transferee);
    return conn(a).transferCallToParticipant(identifierFromRawId(a.target), options);
  },
  async playToAll(a) {
    const options = opOptions(a);
    if (a.loop !== undefined) options.loop = Boolean(a.loop);
    if (a.interruptCallMediaOperation !== undefined) options.interruptCallMediaOperation = Boolean(a.interruptCallMediaOperation);
    await conn(a).getCallMedia().playToAll(playSources(a), options);
    return null;
  },
  async play(a) {
    const options = opOptions(a);
    if (a.loop !== undefined) options.loop = Boolean(a.loop);
    await conn(a).getCallMedia().play(playSources(a), (a.playTo || []).map(identifierFromRawId), options);
    return null;
  },
  async cancelAllMediaOperations(a) {
    await conn(a).getCallMedia().cancelAllOperations(opOptions(a));
    return null;
  },
  async startRecognizingDtmf(a) {
    const options = {
      ...opOptions(a),
      kind: "callMediaRecognizeDtmfOptions",
      maxTonesToCollect: a.maxTonesToCollect,
    };
    if (a.interToneTimeoutInSeconds !== undefined) options.interToneTimeoutInSeconds = a.interToneTimeoutInSeconds;
    if (a.initialSilenceTimeoutInSeconds !== undefined) options.initialSilenceTimeoutInSeconds = a.initialSilenceTimeoutInSeconds;
    if (a.stopDtmfTones !== undefined) options.stopDtmfTones = a.stopDtmfTones;
    if (a.interruptPrompt !== undefined) options.interruptPrompt = a.interruptPrompt;
    if (a.fileUrls || a.text || a.ssml) options.playPrompt = playSources(a)[0];
    await conn(a).getCallMedia().startRecognizing(identifierFromRawId(a.rawId), options);
    return null;
  },
  // startRecognizing passes a.options (with its kind: callMediaRecognize
  // ChoiceOptions, SpeechOptions or SpeechOrDtmfOptions) to the SDK as is.
  async startRecognizing(a) {
    const options = { ...opOptions(a), ...(a.options || {}) };
    if (a.fileUrls || a.text || a.ssml) options.playPrompt = playSources(a)[0];
    await conn(a).getCallMedia().startRecognizing(identifierFromRawId(a.rawId), options);
    return null;
  },
  async hold(a) {
    await conn(a).getCallMedia().hold(identifierFromRawId(a.rawId), opOptions(a));
    return null;
  },
  async unhold(a) {
    await conn(a).getCallMedia().unhold(identifierFromRawId(a.rawId), opOptions(a));
    return null;
  },
  // Parse a CloudEvent (or array / JSON string) with the SDK parser locally.
  async parseEvent(a) {
    const parsed = parseCallAutomationEvent(a.event);
    return { kind: parsed.kind, parsed };
  },
  async raw(a) {
    return rawRequest(a);
  },
};

// ---------------------------------------------------------------- raw HMAC requests

// Same scheme as @azure/communication-common's
// communicationAccessKeyCredentialPolicy (WIRE.md §2.1), reimplemented so that
// tests can send malformed or mis-signed requests.
function hmacHeaders({ method, url, body, key, date, host, contentHash }) {
  const verb = method.toUpperCase();
  const query = url.searchParams.toString();
  const pathAndQuery = query ? `${url.pathname}?${query}` : url.pathname;
  const hash = contentHash ?? crypto.createHash("sha256").update(body).digest("base64");
  const stringToSign = `${verb}\n${pathAndQuery}\n${date};${host};${hash}`;
  const signature = crypto
    .createHmac("sha256", Buffer.from(key, "base64"))
    .update(stringToSign)
    .digest("base64");
  return {
    "x-ms-date": date,
    "x-ms-content-sha256": hash,
    authorization: `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${signature}`,
  };
}

function rawRequest(a) {
  const method = (a.method || "GET").toUpperCase();
  if (!a.path || !a.path.startsWith("/")) throw new Error("raw: path must start with /");
  const url = new URL(a.path, args.endpoint);
  const body = a.body === undefined || a.body === null ? "" : String(a.body);
  const tamper = a.tamper || "";
  const known = ["", "body", "signature", "date-stale", "date-future", "no-auth", "wrong-key", "content-hash", "host"];
  if (!known.includes(tamper)) throw new Error(`raw: unknown tamper ${tamper} (known: ${known.join(", ")})`);

  let date = new Date().toUTCString();
  if (tamper === "date-stale") date = new Date(Date.now() - 3600 * 1000).toUTCString();
  if (tamper === "date-future") date = new Date(Date.now() + 3600 * 1000).toUTCString();
  let key = args.key;
  if (tamper === "wrong-key") key = crypto.randomBytes(32).toString("base64");
  const signHost = tamper === "host" ? "wrong.example.com" : url.host;
  const contentHash =
    tamper === "content-hash" ? crypto.createHash("sha256").update(body + "x").digest("base64") : undefined;

  const auth = hmacHeaders({ method, url, body, key, date, host: signHost, contentHash });
  if (tamper === "signature") {
    const sig = auth.authorization.split("Signature=")[1];
    const flipped = (sig[0] === "A" ? "B" : "A") + sig.slice(1);
    auth.authorization = auth.authorization.replace(`Signature=${sig}`, `Signature=${flipped}`);
  }
  if (tamper === "no-auth") delete auth.authorization;
  const sendBody = tamper === "body" ? body + " " : body;

  const headers = { accept: "application/json", host: url.host, ...auth };
  if (sendBody.length > 0) headers["content-type"] = "application/json";
  for (const [k, v] of Object.entries(a.headers || {})) {
    if (v === null) delete headers[k.toLowerCase()];
    else headers[k.toLowerCase()] = String(v);
  }
  headers["content-length"] = Buffer.byteLength(sendBody);

  const mod = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      url,
      { method, headers, timeout: Number(a.timeoutMs) || 30000 },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const out = { status: res.statusCode, headers: res.headers, body: text };
          try {
            out.json = JSON.parse(text);
          } catch {
            // not JSON
          }
          resolve(out);
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("raw: timeout")));
    req.on("error", reject);
    req.end(sendBody);
  });
}

// ---------------------------------------------------------------- control API

async function handleControl(req, res, url) {
  const path = url.pathname;
  if (req.method === "GET" && path === "/control/events") {
    const since = Number(url.searchParams.get("since") || "0");
    sendJSON(res, 200, { events: events.filter((e) => e.seq > since), lastSeq });
    return;
  }
  if (req.method === "GET" && path === "/control/health") {
    sendJSON(res, 200, { ok: true, pid: process.pid, port: server.address().port, lastSeq });
    return;
  }
  if (req.method === "GET" && path === "/control/stats") {
    sendJSON(res, 200, { ...stats, modes: Object.fromEntries(modes), hungOpen: hungResponses.size, lastSeq });
    return;
  }
  if (req.method !== "POST") {
    sendJSON(res, 405, { ok: false, error: { message: `${req.method} ${path} not supported` } });
    return;
  }
  let body = {};
  const text = (await readBody(req)).toString("utf8");
  if (text.trim()) {
    try {
      body = JSON.parse(text);
    } catch (e) {
      sendJSON(res, 400, { ok: false, error: { message: `invalid JSON: ${e.message}` } });
      return;
    }
  }
  if (path === "/control/mode") {
    const { prefix, mode } = body;
    if (typeof prefix !== "string" || !prefix.startsWith("/")) {
      sendJSON(res, 400, { ok: false, error: { message: "prefix must start with /" } });
      return;
    }
    if (!/^(ok|hang|fail\d{3}|delay:\d+)$/.test(String(mode))) {
      sendJSON(res, 400, { ok: false, error: { message: `bad mode ${mode} (ok, hang, failNNN, delay:<ms>)` } });
      return;
    }
    modes.set(prefix, mode);
    log(`mode ${prefix} = ${mode}`);
    sendJSON(res, 200, { ok: true, modes: Object.fromEntries(modes) });
    return;
  }
  if (path === "/control/op") {
    const fn = ops[body.op];
    if (!fn) {
      sendJSON(res, 400, { ok: false, error: { name: "UnknownOp", message: `unknown op ${body.op}; known: ${Object.keys(ops).join(", ")}` } });
      return;
    }
    try {
      const result = await fn(body.args || {});
      sendJSON(res, 200, { ok: true, result: toPlain(result === undefined ? null : result) });
    } catch (e) {
      log(`op ${body.op} failed: ${e && e.message ? e.message : e}`);
      sendJSON(res, 200, { ok: false, error: errorToPlain(e) });
    }
    return;
  }
  if (path === "/control/quit") {
    sendJSON(res, 200, { ok: true });
    shutdown(0);
    return;
  }
  sendJSON(res, 404, { ok: false, error: { message: `no control endpoint ${path}` } });
}

// ---------------------------------------------------------------- server

const server = http.createServer(async (req, res) => {
  let url;
  try {
    url = new URL(req.url, "http://localhost");
  } catch {
    res.writeHead(400);
    res.end();
    return;
  }
  const path = url.pathname;
  try {
    if (path.startsWith("/control/")) {
      await handleControl(req, res, url);
    } else if (req.method === "OPTIONS" && (path === "/eventgrid" || path.startsWith("/callbacks"))) {
      handleOptions(req, res);
    } else if (req.method === "POST" && path === "/eventgrid") {
      await handleWebhook(req, res, path, "eventgrid");
    } else if (req.method === "POST" && (path === "/callbacks" || path.startsWith("/callbacks/"))) {
      await handleWebhook(req, res, path, "callback");
    } else {
      sendJSON(res, 404, { error: `no route for ${req.method} ${path}` });
    }
  } catch (e) {
    log(`handler error for ${req.method} ${path}: ${e && e.stack ? e.stack : e}`);
    if (!res.headersSent) sendJSON(res, 500, { error: String(e && e.message ? e.message : e) });
    else res.destroy();
  }
});
// a hung webhook must stay hung until the caller gives up
server.requestTimeout = 0;
server.headersTimeout = 60000;
server.keepAliveTimeout = 5000;

let shuttingDown = false;
function shutdown(code) {
  if (shuttingDown) return;
  shuttingDown = true;
  for (const res of hungResponses) res.destroy();
  server.close(() => process.exit(code));
  server.closeAllConnections();
  setTimeout(() => process.exit(code), 2000).unref();
}
process.on("SIGTERM", () => shutdown(0));
process.on("SIGINT", () => shutdown(0));

loadEventsFile();
server.on("error", (e) => {
  log(`listen failed: ${e.message}`);
  process.exit(3);
});
server.listen(args.port, args.host, () => {
  const port = server.address().port;
  log(`listening on http://${args.host}:${port}, ACS endpoint ${args.endpoint}`);
  process.stdout.write(`READY ${port}\n`);
});
