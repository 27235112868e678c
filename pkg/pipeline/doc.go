// Package pipeline holds hookline's three services and the small ports each one consumes:
//
//   - Ingest verifies a webhook, wraps it in an event envelope and publishes it (ingest λ);
//   - Record stores each delivered event exactly once (subscriber λ);
//   - Notify turns each newly stored event into a completion email and marks it (notifier λ).
//
// The services know nothing of Lambda, HTTP or AWS: lambdaio adapts Lambda events to them, and
// the adapters (snsbus, ddbstore, local, …) implement the ports.
package pipeline
