// Package webui is the web view that `hookline local` serves at / for people: the recent
// events with their status and filters, one event with its data pretty-printed, and the
// completion emails in the outbox. It is server-rendered with html/template from embedded
// files (no front-end build, no external assets), reads the history through the
// pipeline.History port like GET /events does, and reloads itself every two seconds.
//
// Mount puts it in front of the API gateway: GET / and /ui/... come here, everything else
// (/webhooks/, /events, /healthz, unknown paths) goes to the API unchanged.
package webui
