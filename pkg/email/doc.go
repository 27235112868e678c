// Package email renders hookline's completion emails and, for the local pipeline, delivers
// them: as RFC 5322 messages appended to an mbox outbox, or over SMTP. On AWS the notifier hands
// the rendered email to an SNS topic instead (snsbus.Mailer).
//
// Wording per event type comes from text/template files: "<type>.tmpl", tried with ever
// shorter dotted prefixes of the type ("pull_request.opened", then "pull_request"), then
// "default.tmpl". Each file defines the templates "subject" and "body". The built-in default
// covers every type, so a templates directory is optional.
package email
