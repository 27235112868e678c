// Package engine is the embedded engine of `hookline local` (`make run`): what SNS, SQS and
// DynamoDB (with its stream) are on AWS, in one durable SQLite file (modernc.org/sqlite, pure
// Go, WAL mode). pkg/local/runner drives the real Lambda handlers from it, and
// pkg/local/gateway serves them over HTTP as API Gateway does; pkg/localrun wires the three.
//
// How it maps to AWS:
//
//   - Topic ≈ SNS topic with raw message delivery. Publish inserts the message, with the
//     attributes "type" and "source", into every subscribed queue in one transaction and
//     returns after the commit, so a 202 is only sent for a durable event.
//   - Hand-off (Options.HandOff, on in `hookline local`): a message published while its queue's
//     in-memory line has room is written as already received once (in flight for the
//     visibility timeout, with its receipt handle) in the same commit, and handed to this
//     process's receivers in memory: taking it costs no write and no read, only the delete
//     when it is done. A process that dies leaves the row in flight; it becomes visible when
//     the timeout ends and is received again, exactly as SQS redelivers a dead consumer's
//     message. Messages that overflow the line go the table's way and are received first.
//   - Queue ≈ SQS standard queue: visibility timeout, receipt handles that change on every
//     receive (a stale one deletes nothing, as in SQS), ApproximateReceiveCount, a redrive
//     policy (maxReceiveCount → dead-letter queue, with the last failure reason kept), DLQ
//     listing and redrive. ReceiveWait is long polling.
//   - Store ≈ the DynamoDB "events" table (pipeline.Store): conditional PutNew, history reads
//     over received_key indexes (never a scan), TTL with a periodic sweep.
//   - The stream table ≈ DynamoDB Streams (NEW_IMAGE): PutNew appends the INSERT record in the
//     same transaction as the item, its NewImage made by ddbitem so the notifier decodes
//     exactly what Lambda delivers. A record refers to its events row, and ReadStream builds
//     the image from it, while that row cannot change before the record is trimmed (an
//     unmarked event that expires later); otherwise it holds the image in a compact binary
//     form (image.go). Consumers keep checkpoints; records are trimmed after 24 h, but for
//     the newest, which is blanked instead: a record's seq is the largest + 1 (no
//     AUTOINCREMENT, whose counter row every PutNew rewrote), so the largest must stay.
//   - The stream-failure table ≈ the stream mapping's on-failure destination
//     (RecordStreamFailure / ListStreamFailures), written by the runner.
//
// Writes: every write goes through one goroutine that owns the single write connection and
// commits whatever requests queued up while the previous commit ran in one transaction (group
// commit), each request in its own savepoint so one failing request does not undo the others.
// SQLite allows one writer at a time anyway; batching turns N fsyncs into one. Reads use a
// separate connection pool and never wait for the writer (WAL).
//
// Durability: the default DurabilityProcess uses synchronous=NORMAL, which survives kill -9 of
// the process (the promise behind a 202; TestKill9LosesNothingAcknowledged proves it) but not
// power loss; DurabilityPowerLoss uses FULL (an fsync per group commit). Measured on the 2-core
// dev VM with `go test -run x -bench . -benchtime 5000x ./pkg/local/...` (quiet machine):
//
//	                               NORMAL      FULL
//	Publish, serial                124 µs      328 µs
//	Publish, 16 parallel callers    41 µs/op    55 µs/op   (group commit)
//	Publish p99 at 500 req/s        9.6 ms      3.1 ms     (p50 0.1 ms / 0.5 ms)
//	Full pipeline (BenchmarkPipeline, serial fake handlers)
//	                             ~2,100 ev/s   ~1,000 ev/s
//
// Only NORMAL meets the ≥ 2,000 events/s local target, hence the default. (Figures from before
// issue 13: the hand-off, the binary stream image, the batched marks, the mbox outbox and the
// 32 MiB checkpoint interval; BENCHMARKS.md has the current ones.)
//
// Per event the pipeline now writes five rows — the message (insert, delete), the item and
// its stream record, the notified mark — plus a share of a checkpoint row per stream batch;
// it was seven (the receive's update and a message-id index entry per publish are gone).
// WAL checkpoints run from their own connection once a second (checkpoint.go), never on the
// writer, so no group commit waits for one; between them the checkpointer hands the WAL's new
// pages to the disk every 50 ms, so no fsync queues a second of writes ahead of the writer's,
// and reads the WAL just past the writer's position, so a block the writer will partly
// overwrite is not read from disk inside its write.
package engine
