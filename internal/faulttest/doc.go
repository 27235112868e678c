// Package faulttest holds hookline's fault-injection tests (issue 7): the real services and
// Lambda handlers (pipeline, lambdaio) on the real embedded engine (local), wired as localrun
// wires them, with every port wrapped by decorators that fail, throttle, slow down or crash a
// seeded share of calls (faults_test.go, rig_test.go).
//
//   - TestFaultsLoseNothingAcknowledged: after recovery every acknowledged event is stored
//     exactly once with exactly one email, nothing unacknowledged is stored, and the DLQ holds
//     exactly the poison messages, each with a reason. The faults' seed is fixed (and
//     logged); HOOKLINE_FAULT_SEED=N runs another, HOOKLINE_FAULT_SEED=random one from the clock.
//   - TestMailerOutage: a mailer outage longer than the stream retries gives emails up into the
//     stream-failure table, each with a reason; every event is emailed or listed there.
//
// There is no non-test code; this file only documents the package.
package faulttest
