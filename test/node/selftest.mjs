// SPDX-License-Identifier: Apache-2.0
//
// Self-test of app.mjs against a tiny fake ACS endpoint (node:https with a
// throw-away self-signed certificate made by openssl, trusted through
// NODE_EXTRA_CA_CERTS exactly as the Go tests do). It proves the op plumbing,
// the HMAC headers (SDK-made and hand-made by the "raw" op), error mapping,
// paging, webhook recording, JWT verification and the control API.
//
//   node --test selftest.mjs      (or: node selftest.mjs)
//
// Needs: node >= 20, openssl on PATH, `npm ci` done in this directory.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import https from "node:https";
import http from "node:http";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const accessKey = Buffer.from("super-secret-test-key-0123456789").toString("base64");

// ------------------------------------------------------------ HMAC verifier

function hmacSign(key, method, pathAndQuery, date, host, hash) {
  return crypto
    .createHmac("sha256", Buffer.from(key, "base64"))
    .update(`${method}\n${pathAndQuery}\n${date};${host};${hash}`)
    .digest("base64");
}

// Verifies the way a server must (WIRE.md §2.1): raw request target, Host
// header, hash recomputed from the raw body.
function verifyHmac(req, body) {
  const hash = crypto.createHash("sha256").update(body).digest("base64");
  if (req.headers["x-ms-content-sha256"] !== hash) return "content hash mismatch";
  const date = req.headers["x-ms-date"];
  if (!date) return "no x-ms-date";
  if (Math.abs(Date.parse(date) - Date.now()) > 15 * 60 * 1000) return "stale x-ms-date";
  const m = /^HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=(.+)$/.exec(
    req.headers.authorization || "",
  );
  if (!m) return "no HMAC authorization";
  const want = hmacSign(accessKey, req.method, req.url, date, req.headers.host, hash);
  if (want !== m[1]) return "bad signature";
  return "";
}

// ------------------------------------------------------------ fake ACS

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sb-node-selftest-"));
const requests = []; // {method, url, headers, body, hmacError}
let acs, acsPort, app, appPort, rsa, kid;

function startFakeACS() {
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
    "-subj", "/CN=127.0.0.1",
    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
    "-keyout", path.join(tmp, "key.pem"),
    "-out", path.join(tmp, "cert.pem"),
  ], { stdio: "ignore" });
  rsa = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  kid = "test-kid-1";
  const jwk = { ...rsa.publicKey.export({ format: "jwk" }), kid, use: "sig", alg: "RS256" };

  acs = https.createServer(
    { key: fs.readFileSync(path.join(tmp, "key.pem")), cert: fs.readFileSync(path.join(tmp, "cert.pem")) },
    (req, res) => {
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const u = new URL(req.url, "https://x");
        if (u.pathname === "/calling/keys") {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify({ keys: [jwk] }));
          return;
        }
        const rec = { method: req.method, url: req.url, headers: req.headers, body, hmacError: verifyHmac(req, body) };
        requests.push(rec);
        const reply = (status, obj) => {
          const text = obj === undefined ? "" : JSON.stringify(obj);
          res.writeHead(status, text ? { "content-type": "application/json" } : {});
          res.end(text);
        };
        if (rec.hmacError) return reply(401, { error: { code: "Unauthorized", message: rec.hmacError } });
        const p = u.pathname;
        if (req.method === "POST" && p === "/calling/callConnections") {
          const b = JSON.parse(body);
          return reply(201, {
            callConnectionId: "cc-1",
            serverCallId: "srv-1",
            targets: b.targets,
            callConnectionState: "connecting",
            callbackUri: b.callbackUri,
            sourceCallerIdNumber: b.sourceCallerIdNumber,
            sourceDisplayName: b.sourceDisplayName,
            correlationId: "corr-1",
          });
        }
        if (req.method === "POST" && p === "/calling/callConnections:answer") {
          const b = JSON.parse(body);
          return reply(200, { callConnectionId: "cc-2", serverCallId: "srv-2", callConnectionState: "connecting", callbackUri: b.callbackUri });
        }
        if (req.method === "POST" && (p === "/calling/callConnections:reject" || p === "/calling/callConnections:redirect")) {
          return reply(204);
        }
        if (req.method === "GET" && p === "/calling/callConnections/cc-1") {
          return reply(200, { callConnectionId: "cc-1", callConnectionState: "connected" });
        }
        if (req.method === "GET" && p === "/calling/callConnections/missing") {
          return reply(404, { error: { code: "8522", message: "Call not found" } });
        }
        if (req.method === "DELETE" && p === "/calling/callConnections/cc-1") return reply(204);
        if (req.method === "POST" && p === "/calling/callConnections/cc-1:terminate") return reply(204);
        if (req.method === "GET" && p === "/calling/callConnections/cc-1/participants") {
          const part = (id) => ({
            identifier: { kind: "phoneNumber", rawId: `4:${id}`, phoneNumber: { value: id } },
            isMuted: false,
            isOnHold: false,
          });
          if (u.searchParams.get("page") === "2") {
            return reply(200, { value: [part("+15550000002")] });
          }
          return reply(200, {
            value: [part("+15550000001")],
            nextLink: `https://127.0.0.1:${acsPort}/calling/callConnections/cc-1/participants?page=2&api-version=2026-03-12`,
          });
        }
        if (req.method === "GET" && p.startsWith("/calling/callConnections/cc-1/participants/")) {
          const raw = decodeURIComponent(p.split("/").pop());
          return reply(200, {
            identifier: { kind: "phoneNumber", rawId: raw, phoneNumber: { value: raw.slice(2) } },
            isMuted: false,
            isOnHold: false,
          });
        }
        if (req.method === "POST" && p === "/calling/echo") {
          return reply(200, { echoed: body });
        }
        return reply(404, { error: { code: "NotFound", message: `no route ${req.method} ${p}` } });
      });
    },
  );
  return new Promise((resolve) => acs.listen(0, "127.0.0.1", () => {
    acsPort = acs.address().port;
    resolve();
  }));
}

function startApp() {
  return new Promise((resolve, reject) => {
    app = spawn(process.execPath, [
      path.join(here, "app.mjs"),
      "--port", "0",
      "--endpoint", `https://127.0.0.1:${acsPort}/`,
      "--key", accessKey,
      "--events-file", path.join(tmp, "events.jsonl"),
      "--jwks-url", `https://127.0.0.1:${acsPort}/calling/keys`,
    ], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: path.join(tmp, "cert.pem") },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    app.stdout.on("data", (d) => {
      out += d.toString();
      const m = /^READY (\d+)\n/m.exec(out);
      if (m && !appPort) {
        appPort = Number(m[1]);
        resolve();
      }
    });
    app.on("exit", (code) => { if (!appPort) reject(new Error(`app.mjs exited ${code} before READY`)); });
  });
}

function call(method, p, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body);
    const req = http.request(
      { host: "127.0.0.1", port: appPort, method, path: p, headers: { "content-type": "application/json", ...headers } },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const t = Buffer.concat(chunks).toString("utf8");
          let json;
          try { json = JSON.parse(t); } catch { /* not JSON */ }
          resolve({ status: res.statusCode, json, text: t });
        });
      },
    );
    req.on("error", reject);
    req.end(text);
  });
}

const op = async (name, args) => (await call("POST", "/control/op", { op: name, args })).json;

function jwt(claims, signWith = rsa.privateKey, header = { alg: "RS256", typ: "JWT", kid }) {
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const data = `${enc(header)}.${enc(claims)}`;
  const sig = crypto.sign("sha256", Buffer.from(data), signWith).toString("base64url");
  return `${data}.${sig}`;
}

before(async () => {
  await startFakeACS();
  await startApp();
});

after(async () => {
  if (app && app.exitCode === null) {
    const exited = new Promise((r) => { app.once("exit", r); setTimeout(r, 3000).unref(); });
    await call("POST", "/control/quit").catch(() => {});
    await exited;
  }
  acs.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

// ------------------------------------------------------------ tests

test("HMAC test vectors from WIRE.md §2.1", () => {
  const body = '{"playSources":[{"kind":"file","file":{"uri":"https://files.contoso.com/hello.wav"}}],"playTo":[],"playOptions":{"loop":false},"operationContext":"ctx"}';
  const hash = crypto.createHash("sha256").update(body).digest("base64");
  assert.equal(hash, "7woX3uHxkGsfpeiJV3HdEbssjeBvBeZNvq6c0W+v0jw=");
  const key = "c3VwZXItc2VjcmV0LXRlc3Qta2V5LTAxMjM0NTY3ODk=";
  assert.equal(key, accessKey);
  assert.equal(
    hmacSign(key, "POST", "/calling/callConnections/421f0b00-1234-4e6a-9b6f-0123456789ab:play?api-version=2026-03-12",
      "Mon, 01 Jan 2024 00:00:00 GMT", "contoso.communication.azure.com", hash),
    "EN1rkv4INIkZRbwreBs9NaKc06JKE2w5eOPMcUUwoCA=");
  assert.equal(
    hmacSign(key, "GET", "/calling/callConnections/cc1/participants/8%3Aacs%3Ares_user2?api-version=2026-03-12",
      "Mon, 01 Jan 2024 00:00:00 GMT", "localhost:8080", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="),
    "DVGAUly4x5tOMzYMfc9WVFTG+6JKmOdybg+Rau4uEfs=");
});

test("createCall goes out signed and returns CallConnectionProperties", async () => {
  const r = await op("createCall", {
    target: "4:+15551234567",
    callbackUrl: `http://127.0.0.1:${appPort}/callbacks/c1`,
    sourceCallerIdNumber: "+15550009999",
    sourceDisplayName: "Contoso",
    operationContext: "ctx-1",
  });
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.equal(r.result.callConnectionId, "cc-1");
  assert.deepEqual(r.result.targetParticipants, [{ phoneNumber: "+15551234567", rawId: "4:+15551234567" }]);
  const req = requests.find((x) => x.method === "POST" && x.url.startsWith("/calling/callConnections?"));
  assert.ok(req, "createCall request not seen");
  assert.equal(req.hmacError, "");
  assert.match(req.url, /api-version=2026-03-12/);
  assert.ok(req.headers["repeatability-request-id"]);
  const b = JSON.parse(req.body);
  assert.equal(b.targets[0].kind, "phoneNumber");
  assert.equal(b.sourceCallerIdNumber.value, "+15550009999");
  assert.equal(b.operationContext, "ctx-1");
});

test("createCall to an ACS user, answer/reject/redirect", async () => {
  let r = await op("createCall", { target: "8:acs:res_user1", callbackUrl: "https://app.example/cb" });
  assert.equal(r.ok, true, JSON.stringify(r));
  const req = requests.filter((x) => x.url.startsWith("/calling/callConnections?")).pop();
  assert.equal(JSON.parse(req.body).targets[0].kind, "communicationUser");
  r = await op("answerCall", { incomingCallContext: "icc", callbackUrl: "https://app.example/cb", operationContext: "a" });
  assert.equal(r.result.callConnectionId, "cc-2");
  r = await op("rejectCall", { incomingCallContext: "icc", reason: "busy" });
  assert.deepEqual(r, { ok: true, result: null });
  assert.equal(JSON.parse(requests.at(-1).body).callRejectReason, "busy");
  r = await op("redirectCall", { incomingCallContext: "icc", target: "4:+15557654321" });
  assert.equal(r.ok, true);
  assert.equal(JSON.parse(requests.at(-1).body).target.rawId, "4:+15557654321");
});

test("properties, errors, hangUp", async () => {
  let r = await op("getCallConnectionProperties", { callConnectionId: "cc-1" });
  assert.equal(r.result.callConnectionState, "connected");
  r = await op("getCallConnectionProperties", { callConnectionId: "missing" });
  assert.equal(r.ok, false);
  assert.equal(r.error.statusCode, 404);
  assert.equal(r.error.code, "8522");
  assert.equal(r.error.message, "Call not found");
  assert.equal(r.error.name, "RestError");
  r = await op("hangUp", { callConnectionId: "cc-1", forEveryone: false });
  assert.equal(r.ok, true);
  assert.equal(requests.at(-1).method, "DELETE");
  r = await op("hangUp", { callConnectionId: "cc-1", forEveryone: true });
  assert.equal(r.ok, true);
  assert.match(requests.at(-1).url, /:terminate\?/);
});

test("listParticipants follows nextLink, getParticipant encodes rawId", async () => {
  let r = await op("listParticipants", { callConnectionId: "cc-1" });
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.equal(r.result.pages, 2);
  assert.deepEqual(r.result.participants.map((p) => p.identifier.rawId), ["4:+15550000001", "4:+15550000002"]);
  r = await op("getParticipant", { callConnectionId: "cc-1", rawId: "4:+15550000001" });
  assert.equal(r.result.identifier.rawId, "4:+15550000001");
  assert.match(requests.at(-1).url, /participants\/4%3A%2B15550000001\?/);
});

test("raw op signs like the SDK and tampers on request", async () => {
  let r = await op("raw", { method: "POST", path: "/calling/echo?api-version=2026-03-12", body: '{"x":1}' });
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.equal(r.result.status, 200, JSON.stringify(r.result));
  assert.deepEqual(r.result.json, { echoed: '{"x":1}' });
  for (const [tamper, why] of [
    ["body", "content hash mismatch"],
    ["content-hash", "content hash mismatch"],
    ["signature", "bad signature"],
    ["wrong-key", "bad signature"],
    ["host", "bad signature"],
    ["date-stale", "stale x-ms-date"],
    ["no-auth", "no HMAC authorization"],
  ]) {
    r = await op("raw", { method: "POST", path: "/calling/echo?api-version=2026-03-12", body: "{not json", tamper });
    assert.equal(r.result.status, 401, tamper);
    assert.equal(r.result.json.error.message, why, tamper);
  }
  r = await op("raw", { method: "POST", path: "/x", tamper: "bogus" });
  assert.equal(r.ok, false);
  const bad = await call("POST", "/control/op", { op: "nope" });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.ok, false);
});

test("callbacks are parsed with the SDK and their JWT verified", async () => {
  const since = (await call("GET", "/control/events?since=0")).json.lastSeq;
  const now = Math.floor(Date.now() / 1000);
  const ev = (type, data) => ({
    id: crypto.randomUUID(),
    source: "calling/callConnections/cc-1",
    type: `Microsoft.Communication.${type}`,
    data: { callConnectionId: "cc-1", serverCallId: "srv-1", correlationId: "corr-1", ...data },
    time: new Date().toISOString(),
    specversion: "1.0",
    datacontenttype: "application/json",
    subject: "calling/callConnections/cc-1",
  });
  const good = jwt({ iss: "https://sb.test", aud: "res", exp: now + 300, iat: now });
  let r = await call("POST", "/callbacks/c1", [ev("CallConnected", { operationContext: "ctx-1" })], { authorization: `Bearer ${good}` });
  assert.equal(r.status, 200);
  const expired = jwt({ iss: "https://sb.test", exp: now - 3600 });
  r = await call("POST", "/callbacks/c1", [ev("CallDisconnected", {})], { authorization: `Bearer ${expired}` });
  assert.equal(r.status, 200);
  const other = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  r = await call("POST", "/callbacks/c1", [ev("PlayCompleted", {})], { authorization: `Bearer ${jwt({ exp: now + 60 }, other)}` });
  r = await call("POST", "/callbacks/c1", [ev("HoldAudioStarted", {})]);
  r = await call("POST", "/callbacks/c1", "{broken");
  assert.equal(r.status, 400);

  const evs = (await call("GET", `/control/events?since=${since}`)).json.events;
  assert.equal(evs.length, 5);
  const [c, d, p, u, b] = evs;
  assert.equal(c.parsedKind, "CallConnected");
  assert.equal(c.parsed.operationContext, "ctx-1");
  assert.equal(c.jwtValid, true, c.jwtError);
  assert.equal(c.jwtClaims.iss, "https://sb.test");
  assert.equal(c.path, "/callbacks/c1");
  assert.equal(c.headers.hasAuthorization, true);
  assert.equal(c.headers.authorization, "Bearer <redacted>");
  assert.equal(c.batchSize, 1);
  assert.equal(d.parsedKind, "CallDisconnected");
  assert.equal(d.jwtValid, false);
  assert.match(d.jwtError, /expired/);
  assert.equal(p.jwtValid, false);
  assert.equal(p.jwtError, "bad signature");
  assert.equal(u.parsedKind, undefined);
  assert.match(u.parseError, /Unknown Call Automation Event type/);
  assert.equal(u.jwtValid, false);
  assert.match(b.bodyError, /invalid JSON/);
  assert.ok(c.seq < d.seq && d.seq < p.seq);
  // and on disk, one JSON line each
  const lines = fs.readFileSync(path.join(tmp, "events.jsonl"), "utf8").trim().split("\n");
  assert.equal(JSON.parse(lines.at(-1)).seq, b.seq);
});

test("Event Grid validation handshake and notifications", async () => {
  const since = (await call("GET", "/control/events?since=0")).json.lastSeq;
  let r = await call("POST", "/eventgrid", [{
    id: "v1", topic: "/subscriptions/x", subject: "", eventType: "Microsoft.EventGrid.SubscriptionValidationEvent",
    data: { validationCode: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6" }, eventTime: new Date().toISOString(),
    metadataVersion: "1", dataVersion: "1",
  }], { "aeg-event-type": "SubscriptionValidation" });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { validationResponse: "512d38b6-c7b8-40c8-89fe-f46f9e9622b6" });
  r = await call("POST", "/eventgrid", [{
    id: "i1", topic: "/subscriptions/x", subject: "/caller/a/recipient/b", eventType: "Microsoft.Communication.IncomingCall",
    data: { incomingCallContext: "icc-1", to: { kind: "phoneNumber", rawId: "4:+1555" } }, eventTime: new Date().toISOString(),
    dataVersion: "1.0", metadataVersion: "1",
  }], { "aeg-event-type": "Notification" });
  assert.equal(r.status, 200);
  const evs = (await call("GET", `/control/events?since=${since}`)).json.events;
  assert.equal(evs[0].parsedKind, "SubscriptionValidation");
  assert.equal(evs[0].validationCode, "512d38b6-c7b8-40c8-89fe-f46f9e9622b6");
  assert.equal(evs[1].parsedKind, "IncomingCall");
  assert.equal(evs[1].parsed.incomingCallContext, "icc-1");
  assert.equal(evs[1].headers["aeg-event-type"], "Notification");
});

test("webhook modes: fail503 is not recorded, hang is recorded as hung", async () => {
  let r = await call("POST", "/control/mode", { prefix: "/callbacks", mode: "fail503" });
  assert.equal(r.json.ok, true);
  const since = (await call("GET", "/control/events?since=0")).json.lastSeq;
  r = await call("POST", "/callbacks/x", [{ type: "Microsoft.Communication.CallConnected", data: {} }]);
  assert.equal(r.status, 503);
  await call("POST", "/control/mode", { prefix: "/callbacks", mode: "hang" });
  const hung = new Promise((resolve) => {
    const req = http.request({ host: "127.0.0.1", port: appPort, method: "POST", path: "/callbacks/x" }, () => resolve("answered"));
    req.on("error", () => resolve("closed"));
    req.setTimeout(300, () => { req.destroy(); });
    req.end(JSON.stringify([{ type: "Microsoft.Communication.CallConnected", data: {} }]));
  });
  assert.equal(await hung, "closed");
  await call("POST", "/control/mode", { prefix: "/callbacks", mode: "ok" });
  const evs = (await call("GET", `/control/events?since=${since}`)).json.events;
  assert.equal(evs.length, 1);
  assert.equal(evs[0].hung, true);
  const stats = (await call("GET", "/control/stats")).json;
  assert.equal(stats.failed["/callbacks"], 1);
  assert.equal(stats.hung["/callbacks"], 1);
  r = await call("POST", "/control/mode", { prefix: "/callbacks", mode: "weird" });
  assert.equal(r.status, 400);
});
