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
import bolt from "@slack/bolt";
import twilio from "twilio";
import "@shopify/shopify-api/adapters/node";
import { shopifyApi, ApiVersion } from "@shopify/shopify-api";
import { AwsLambdaReceiver as ZoomReceiver } from "@zoom/rivet/meetings";

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

// vector adds one case: provider and its name under it first, then fields in their order.
const vector = (provider, name, fields) => cases.push({ provider, name: `${provider}/${name}`, ...fields });

// zoomAnswer is what @zoom/rivet's AwsLambdaReceiver answers a signed request (its debug
// logging silenced).
async function zoomAnswer(secret, body, headers) {
  const rx = new ZoomReceiver({ webhooksSecretToken: secret });
  rx.init({ eventEmitter: { emit: async () => {} } });
  const origDebug = console.debug;
  console.debug = () => {};
  const out = await rx.start()({ body, headers, isBase64Encoded: false }, {});
  console.debug = origDebug;
  return out;
}

// GitHub: X-Hub-Signature-256 = "sha256=" + hex(HMAC-SHA256(secret, body)).
for (const [secret, bodyNames] of [
  ["It's a Secret to Everybody", ["hello", "json"]],
  ["gh-rotation-secret-2", ["unicode", "trailing", "pretty"]],
]) {
  for (const name of bodyNames) {
    const body = bodies[name];
    vector("github", name, { secret, body, headers: { "x-hub-signature-256": await githubSign(secret, body) }, timestamp: 1700000000 });
  }
}

// Stripe: Stripe-Signature = "t=<ts>,v1=" + hex(HMAC-SHA256(whole whsec_ string, "<ts>.<body>")).
{
  const secret = "whsec_test_vectors_5f2b8c0e4d1a";
  let ts = 1700000100;
  for (const name of ["json", "unicode", "trailing", "pretty", "empty"]) {
    const body = name === "empty" ? "" : bodies[name];
    const header = stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp: ts });
    vector("stripe", name, { secret, body, headers: { "stripe-signature": header }, timestamp: ts });
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
    vector("standard-webhooks", name, { secret, body, headers: { "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": sig }, timestamp: ts });
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
    vector("svix", name, { secret, body, headers: { "svix-id": id, "svix-timestamp": String(ts), "svix-signature": sig }, timestamp: ts });
  }
}

// intdash has no signing library: X-Intdash-Signature-256 = base64(HMAC-SHA256(secret, body)),
// computed with node's crypto.
{
  const secret = "intdash-webhook-secret-01";
  for (const name of ["json", "unicode", "trailing"]) {
    const body = bodies[name];
    vector("intdash", name, { secret, body, headers: { "x-intdash-signature-256": createHmac("sha256", secret).update(body, "utf8").digest("base64") }, timestamp: 1700000400 });
  }
}

// Slack: X-Slack-Signature = "v0=" + hex(HMAC-SHA256(signing secret, "v0:<ts>:<body>")). Slack's
// library only verifies, so each vector is signed with node's crypto and must pass
// @slack/bolt's verifySlackRequest; the first is the worked example of Slack's "Verifying
// requests from Slack", whose documented signature it must reproduce.
{
  const sign = (secret, ts, body) => "v0=" + createHmac("sha256", secret).update(`v0:${ts}:${body}`).digest("hex");
  const specs = [
    ["8f742231b10e8888abcd99yyyzzz85a5", 1531420618,
      "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
      "docs-slash-command", "application/x-www-form-urlencoded"],
    ["slack-signing-secret-vectors-01", 1700000500,
      '{"token":"t","team_id":"T1","api_app_id":"A1","event":{"type":"app_mention","user":"U1","text":"<@U0> hi","ts":"1700000500.000100","channel":"C1"},"type":"event_callback","event_id":"Ev0PV52K21","event_time":1700000500}',
      "event-callback", "application/json"],
    ["slack-signing-secret-vectors-01", 1700000501, bodies.unicode, "unicode", "application/json"],
  ];
  for (const [secret, ts, body, name, contentType] of specs) {
    const sig = sign(secret, ts, body);
    bolt.verifySlackRequest({ signingSecret: secret, body, headers: { "x-slack-signature": sig, "x-slack-request-timestamp": ts }, nowMilliseconds: ts * 1000 });
    if (name === "docs-slash-command" && sig !== "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503") {
      throw new Error("Slack's documented example does not reproduce: " + sig);
    }
    vector("slack", name, {
      origin: "node crypto, checked by @slack/bolt verifySlackRequest" + (name === "docs-slash-command" ? "; Slack's documented example" : ""),
      secret, body, content_type: contentType,
      headers: { "x-slack-signature": sig, "x-slack-request-timestamp": String(ts) }, timestamp: ts,
    });
  }
}

// Shopify: X-Shopify-Hmac-Sha256 = base64(HMAC-SHA256(app secret, body)); only the body is
// signed. Signed with node's crypto, and each must pass @shopify/shopify-api webhooks.validate.
{
  const secret = "shpss_vectors_0123456789abcdef";
  const shopify = shopifyApi({ apiKey: "vectors", apiSecretKey: secret, scopes: [], hostName: "localhost", apiVersion: ApiVersion.October24, isEmbeddedApp: false, logger: { level: 0, log: () => {} } });
  const specs = [
    ["orders/create", '{"id":820982911946154508,"email":"jon@example.com","total_price":"254.98","line_items":[{"title":"IPod Nano - 8gb","quantity":1}]}', "orders-create"],
    ["customers/update", bodies.unicode, "unicode"],
  ];
  for (const [topic, body, name] of specs) {
    const hmac = createHmac("sha256", secret).update(body, "utf8").digest("base64");
    const headers = {
      "x-shopify-hmac-sha256": hmac, "x-shopify-topic": topic, "x-shopify-shop-domain": "vectors.myshopify.com",
      "x-shopify-api-version": "2024-10", "x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
    };
    const result = await shopify.webhooks.validate({ rawBody: body, rawRequest: { method: "POST", url: "/webhooks/shopify", headers }, rawResponse: {} });
    if (!result.valid) {
      throw new Error("@shopify/shopify-api refuses vector " + name + ": " + JSON.stringify(result));
    }
    vector("shopify", name, {
      origin: "node crypto, checked by @shopify/shopify-api webhooks.validate",
      secret, body, content_type: "application/json", headers, timestamp: 1700000600,
    });
  }
}

// Meta: X-Hub-Signature-256 = "sha256=" + hex(HMAC-SHA256(app secret, body)). Meta publishes no
// signing library; node's crypto computes it as Meta's "Validating Payloads" describes.
{
  const secret = "meta-app-secret-vectors-0123";
  const specs = [
    ['{"object":"page","entry":[{"id":"0","time":1700000700,"changes":[{"field":"feed","value":{"item":"status","verb":"add"}}]}]}', "page-feed"],
    ['{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"value":{"messaging_product":"whatsapp","messages":[{"from":"16315551181","id":"wamid.ABC","text":{"body":"this is a text message"},"type":"text"}]},"field":"messages"}]}]}', "whatsapp-messages"],
  ];
  for (const [body, name] of specs) {
    vector("meta", name, {
      origin: "node crypto (Meta publishes no signing library)", secret, body, content_type: "application/json",
      headers: { "x-hub-signature-256": "sha256=" + createHmac("sha256", secret).update(body, "utf8").digest("hex") },
      timestamp: 1700000700,
    });
  }
}

// Twilio: X-Twilio-Signature = base64(HMAC-SHA1(auth token, URL + sorted params)), made by the
// twilio library's getExpectedTwilioSignature and checked with its validateRequest (form) and
// validateRequestWithBody (JSON: the URL carries bodySHA256 and the params are empty).
{
  const token = "twilio-auth-token-vectors-0123";
  const form = { AccountSid: "AC00000000000000000000000000000000", Body: "Hello from Twilio ☕", From: "+15005550006", MessageSid: "SM00000000000000000000000000000001", MessageStatus: "received", To: "+15005550001" };
  const jsonBody = '{"specversion":"1.0","type":"com.twilio.messaging.message.delivered","id":"EZ0001"}';
  const specs = [
    { name: "form", body: new URLSearchParams(form).toString(), content_type: "application/x-www-form-urlencoded",
      url: "https://hooks.example.com/webhooks/twilio?tenant=a", params: form, check: "validateRequest" },
    { name: "json-body-sha256", body: jsonBody, content_type: "application/json",
      url: "https://hooks.example.com/webhooks/twilio?bodySHA256=" + twilio.getExpectedBodyHash(jsonBody), params: {}, check: "validateRequestWithBody" },
  ];
  for (const [i, s] of specs.entries()) {
    const sig = twilio.getExpectedTwilioSignature(token, s.url, s.params);
    const ok = s.check === "validateRequest"
      ? twilio.validateRequest(token, sig, s.url, s.params)
      : twilio.validateRequestWithBody(token, sig, s.url, s.body);
    if (!ok) throw new Error(`twilio refuses its own ${s.name} vector`);
    vector("twilio", s.name, {
      origin: `twilio getExpectedTwilioSignature, checked by ${s.check}`,
      secret: token, body: s.body, content_type: s.content_type, url: s.url,
      headers: { "x-twilio-signature": sig }, timestamp: 1700000800 + i,
    });
  }
}

// Zoom: x-zm-signature = "v0=" + hex(HMAC-SHA256(secret token, "v0:<ts>:<body>")), signed with
// node's crypto and accepted by @zoom/rivet's AwsLambdaReceiver (Zoom's own SDK), which
// re-serialises the body, so the bodies are compact JSON as Zoom sends them.
{
  const secret = "zoom-secret-token-vectors-0123";
  const specs = [
    ['{"event":"meeting.started","event_ts":1700000900000,"payload":{"account_id":"AAAAAA","object":{"id":"1234567890","uuid":"4444AAAiAAAAAiAiAiiAii==","topic":"My Meeting"}}}', 1700000900, "meeting-started"],
  ];
  for (const [body, ts, name] of specs) {
    const sig = "v0=" + createHmac("sha256", secret).update(`v0:${ts}:${body}`).digest("hex");
    const headers = { "x-zm-signature": sig, "x-zm-request-timestamp": String(ts) };
    const out = await zoomAnswer(secret, body, headers);
    if (out.statusCode !== 200) throw new Error("@zoom/rivet refuses vector " + name + ": " + out.body);
    vector("zoom", name, {
      origin: "node crypto, checked by @zoom/rivet AwsLambdaReceiver",
      secret, body, content_type: "application/json", headers, timestamp: ts,
    });
  }
  // The endpoint.url_validation handshake with the plainToken of Zoom's documentation; the
  // answer is the one @zoom/rivet's receiver gives (plainToken + hex HMAC-SHA256 of it).
  {
    const ts = 1654503849;
    const body = '{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}';
    const headers = { "x-zm-signature": "v0=" + createHmac("sha256", secret).update(`v0:${ts}:${body}`).digest("hex"), "x-zm-request-timestamp": String(ts) };
    const out = await zoomAnswer(secret, body, headers);
    if (out.statusCode !== 200) throw new Error("@zoom/rivet refuses the url_validation vector: " + out.body);
    vector("zoom", "url-validation", {
      origin: "node crypto, answered by @zoom/rivet AwsLambdaReceiver; plainToken from Zoom's documentation",
      secret, body, content_type: "application/json", headers, timestamp: ts, answer: JSON.parse(out.body),
    });
  }
}

process.stdout.write(JSON.stringify(cases, null, 2) + "\n");
