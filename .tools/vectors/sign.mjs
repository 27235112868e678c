// sign.mjs — known-answer test vectors for pkg/verify, produced by the providers' OWN
// libraries (pinned in ../package.json), never by our Go code.
//
// Run from .tools:   node vectors/sign.mjs > ../pkg/verify/testdata/vectors.json
//
// Everything is fixed (secrets, bodies, ids, timestamps), so the output is byte-for-byte
// deterministic; pkg/verify's TestVectorsUpToDate re-runs this script and diffs the result.
// It makes no network calls.
import { createHmac } from "node:crypto";
import { sign as githubSign } from "@octokit/webhooks-methods";
import Stripe from "stripe";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { Webhook as SvixWebhook } from "svix";

// A Stripe client is only constructed to reach stripe.webhooks; it never sends a request.
const stripe = new Stripe("sk_test_vectors_only_never_used", { telemetry: false });

const bodies = {
  hello: "Hello, World!",
  json: '{"id":"evt_1","type":"push","data":{"n":1}}',
  unicode: '{"name":"Zoë — naïve café ☕ 日本語 🚀","emoji":"\\ud83d\\ude80"}',
  trailing: '{"ok":true}  \n\t \r\n',
  pretty: '{\n  "type": "invoice.paid",\n  "amount": 4200\n}\n',
};

const cases = [];

// GitHub: X-Hub-Signature-256 = "sha256=" + hex(HMAC-SHA256(secret, body)).
for (const [secret, bodyNames] of [
  ["It's a Secret to Everybody", ["hello", "json"]],
  ["gh-rotation-secret-2", ["unicode", "trailing", "pretty"]],
]) {
  for (const name of bodyNames) {
    const body = bodies[name];
    cases.push({
      provider: "github",
      name: `github/${name}`,
      secret,
      body,
      headers: { "x-hub-signature-256": await githubSign(secret, body) },
      timestamp: 1700000000,
    });
  }
}

// Stripe: Stripe-Signature = "t=<ts>,v1=" + hex(HMAC-SHA256(whole whsec_ string, "<ts>.<body>")).
{
  const secret = "whsec_test_vectors_5f2b8c0e4d1a";
  let ts = 1700000100;
  for (const name of ["json", "unicode", "trailing", "pretty", "empty"]) {
    const body = name === "empty" ? "" : bodies[name];
    const header = stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp: ts });
    cases.push({
      provider: "stripe",
      name: `stripe/${name}`,
      secret,
      body,
      headers: { "stripe-signature": header },
      timestamp: ts,
    });
    ts += 7;
  }
}

// Standard Webhooks: webhook-signature = "v1," + base64(HMAC-SHA256(base64decode(secret), "<id>.<ts>.<body>")).
{
  const specs = [
    // The example from the Standard Webhooks specification.
    ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}', "spec"],
    ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_2", 1700000200, bodies.unicode, "unicode"],
    // A secret given without the whsec_ prefix is plain base64.
    ["c3RhbmRhcmQtd2ViaG9va3MtdmVjdG9yLWtleS0wMQ==", "msg_3", 1700000201, bodies.trailing, "unprefixed-trailing"],
    ["whsec_c3RhbmRhcmQtd2ViaG9va3MtdmVjdG9yLWtleS0wMQ==", "msg_4", 1700000202, bodies.pretty, "pretty"],
    ["whsec_c3RhbmRhcmQtd2ViaG9va3MtdmVjdG9yLWtleS0wMQ==", "msg_5", 1700000203, "", "empty"],
  ];
  for (const [secret, id, ts, body, name] of specs) {
    const sig = new StandardWebhook(secret).sign(id, new Date(ts * 1000), body);
    cases.push({
      provider: "standard-webhooks",
      name: `standard-webhooks/${name}`,
      secret,
      body,
      headers: { "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": sig },
      timestamp: ts,
    });
  }
}

// Svix: the same scheme under svix-* headers.
{
  const secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
  const specs = [
    ["msg_svix_1", 1700000300, bodies.json, "json"],
    ["msg_svix_2", 1700000301, bodies.unicode, "unicode"],
    ["msg_svix_3", 1700000302, bodies.trailing, "trailing"],
  ];
  for (const [id, ts, body, name] of specs) {
    const sig = new SvixWebhook(secret).sign(id, new Date(ts * 1000), body);
    cases.push({
      provider: "svix",
      name: `svix/${name}`,
      secret,
      body,
      headers: { "svix-id": id, "svix-timestamp": String(ts), "svix-signature": sig },
      timestamp: ts,
    });
  }
}

// intdash has no signing library: X-Intdash-Signature-256 = base64(HMAC-SHA256(secret, body)),
// computed with node's crypto.
{
  const secret = "intdash-webhook-secret-01";
  for (const name of ["json", "unicode", "trailing"]) {
    const body = bodies[name];
    cases.push({
      provider: "intdash",
      name: `intdash/${name}`,
      secret,
      body,
      headers: { "x-intdash-signature-256": createHmac("sha256", secret).update(body, "utf8").digest("base64") },
      timestamp: 1700000400,
    });
  }
}

process.stdout.write(JSON.stringify(cases, null, 2) + "\n");
