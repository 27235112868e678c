// Package event is hookline's domain: the CloudEvents 1.0 envelope every webhook becomes at
// ingest, the event ids that make retried deliveries idempotent, and the Record that the
// history keeps for each event.
//
// The envelope is structured-mode CloudEvents JSON. It is the SNS message body on AWS and the
// topic message in the local engine, so every stage after ingest decodes it with Decode.
// JSON bodies are kept byte for byte (never re-encoded), UTF-8 text bodies become a JSON string
// and anything else travels as data_base64.
//
// This package imports nothing from AWS.
package event
