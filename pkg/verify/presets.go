package verify

import "time"

// Presets of the hmac-sha256 scheme for providers that sign with HMAC-SHA256 in a header of
// their own. Each is exactly what the provider's own library checks (the test vectors in
// testdata/vectors.json come from those libraries; see .tools/vectors/sign.mjs).

// Slack signs "v0:<X-Slack-Request-Timestamp>:<body>" into X-Slack-Signature: v0=<hex> (Slack's
// "Verifying requests from Slack"; @slack/bolt verifySlackRequest). The timestamp is signed, so
// a captured request is refused once it is older than the tolerance (Slack: 5 minutes).
func Slack(secrets []string, tolerance time.Duration) HMACConfig {
	return HMACConfig{
		Header: "X-Slack-Signature", Prefix: "v0=", Encoding: "hex",
		TimestampHeader: "X-Slack-Request-Timestamp", Template: "v0:{timestamp}:{body}",
		Tolerance: tolerance, Secrets: secrets,
	}
}

// Zoom signs "v0:<x-zm-request-timestamp>:<body>" into x-zm-signature: v0=<hex> with the app's
// webhook secret token (Zoom's "Verify webhook events"; @zoom/rivet's receivers).
func Zoom(secrets []string, tolerance time.Duration) HMACConfig {
	return HMACConfig{
		Header: "X-Zm-Signature", Prefix: "v0=", Encoding: "hex",
		TimestampHeader: "X-Zm-Request-Timestamp", Template: "v0:{timestamp}:{body}",
		Tolerance: tolerance, Secrets: secrets,
	}
}

// Shopify signs the body alone into X-Shopify-Hmac-Sha256: base64 (@shopify/shopify-api
// webhooks.validate). No header is signed: X-Shopify-Webhook-Id and X-Shopify-Topic can be
// changed by anyone who captured a delivery, so neither may decide identity.
func Shopify(secrets []string) HMACConfig {
	return HMACConfig{Header: "X-Shopify-Hmac-Sha256", Encoding: "base64", Secrets: secrets}
}

// Meta (Facebook, Instagram, WhatsApp webhooks) signs the body with the app secret into
// X-Hub-Signature-256: sha256=<hex>, the format GitHub uses.
func Meta(secrets []string) HMACConfig {
	return HMACConfig{Header: "X-Hub-Signature-256", Prefix: "sha256=", Encoding: "hex", Secrets: secrets}
}
