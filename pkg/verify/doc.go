// Package verify checks that a webhook request was sent by the holder of a shared secret.
//
// It implements the signature schemes hookline's sources config names: GitHub
// (X-Hub-Signature-256), Stripe (Stripe-Signature t=,v1=), Standard Webhooks (webhook-* and
// svix-* headers), a configurable HMAC-SHA256 header (hex or base64, optional prefix and
// timestamp; the intdash preset), and a static bearer token. Each is a [Verifier].
//
// Where it sits: the ingest Lambda (and `hookline local`, which drives the same handler) resolves
// the request's source to a Verifier via pkg/source and calls Verify on the raw request bytes —
// after decoding API Gateway's base64 body, never after re-serialising JSON — before anything
// is published to the bus. A failed verification becomes a 401; nothing is published.
//
// Properties every verifier shares:
//   - Several secrets per verifier (rotation without downtime): a request is accepted when any
//     secret matches any signature it carries.
//   - Every comparison of secret-derived material is constant-time.
//   - Timestamped schemes reject timestamps outside the tolerance on either side (too old or in
//     the future), so captured requests cannot be replayed later.
//   - Every error wraps exactly one of the sentinel errors (use [errors.Is]) and carries a short
//     detail that never contains a secret, an expected signature or the received signature.
//   - The verifying hot path does not allocate in steady state: HMAC states are pooled per
//     secret and signatures are decoded into fixed-size arrays.
//
// The package is stdlib-only and imports nothing from AWS.
package verify
