package faulttest

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"hookline/pkg/ddbitem"
	"hookline/pkg/email"
	"hookline/pkg/lambdaio"
	"hookline/pkg/local/engine"
	"hookline/pkg/local/runner"
	"hookline/pkg/pipeline"
	"hookline/pkg/source"
)

// rig is the local pipeline as localrun wires it (ingest → topic → queue → subscriber → store →
// stream → notifier → outbox), with every port wrapped by the fault decorators, and a runner
// tuned for a test: short visibility timeout, short polls.
type rig struct {
	eng    *engine.Engine
	ingest *lambdaio.IngestHandler
	mailer *faultyMailer
	outbox string
	stop   func() error // stops the runner (once) and returns its error
}

func newRig(t *testing.T, in *injector, led *ledger, r rates, tune func(*runner.Runner)) *rig {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	dir := t.TempDir()
	ctx := context.Background()

	eng, err := engine.Open(filepath.Join(dir, "hookline.db"), engine.Options{SweepInterval: -1, Log: log, HandOff: engine.DefaultHandOff}) // as hookline local runs it
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	// Failed messages come back after the visibility timeout, and 10 receives put a poison
	// message in the DLQ (~10 s) while a good message, failing at most ~30% of its receives
	// here, practically never exhausts them (0.3^10 ≈ 6e-6; the fixed seed decides which fail).
	// A second, not 100 ms: a batch still in hand must never come back just because a busy
	// machine was slow, which would spend its receives.
	if err := eng.CreateQueue(ctx, dlq, engine.QueueConfig{VisibilityTimeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if err := eng.CreateQueue(ctx, queue, engine.QueueConfig{VisibilityTimeout: time.Second, MaxReceiveCount: 10, DeadLetterQueue: dlq}); err != nil {
		t.Fatal(err)
	}
	if err := eng.Subscribe(ctx, topic, queue); err != nil {
		t.Fatal(err)
	}
	sources, err := source.New(source.File{Sources: map[string]source.Config{src: {Scheme: source.SchemeToken, Secrets: []string{token}}}})
	if err != nil {
		t.Fatal(err)
	}
	composer, err := email.NewComposer("", 0)
	if err != nil {
		t.Fatal(err)
	}
	rg := &rig{eng: eng, outbox: filepath.Join(dir, "outbox")}
	rg.mailer = &faultyMailer{next: &email.Outbox{Dir: rg.outbox}, in: in, led: led, r: r}
	store := &faultyStore{next: eng.Events(), in: in, led: led, r: r}
	rg.ingest = &lambdaio.IngestHandler{Service: &pipeline.Ingest{Sources: sources, Publisher: &faultyPublisher{next: eng.Topic(topic), in: in, p: r.publishFail}}, Log: log}
	subscriber := &lambdaio.SubscriberHandler{Service: &pipeline.Record{Events: store}, Log: log}
	notifier := &lambdaio.NotifierHandler{DecodeImage: ddbitem.FromStreamImage, Service: &pipeline.Notify{Store: store, Composer: composer, Mailer: rg.mailer}, Log: log}

	runner := &runner.Runner{
		Engine: eng, Queue: queue, Subscriber: crashingSubscriber(subscriber.Handle, in, r.subscriberCrash),
		StreamConsumer: stream, Notifier: crashingNotifier(notifier.Handle, in, r.notifierCrash),
		Concurrency: 2, BatchWindow: 20 * time.Millisecond, PollInterval: 10 * time.Millisecond,
		ParallelizationFactor: 2, Log: log,
	}
	if tune != nil {
		tune(runner)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- runner.Run(runCtx) }()
	var once sync.Once
	var runErr error
	rg.stop = func() error {
		once.Do(func() { cancel(); runErr = <-done })
		return runErr
	}
	t.Cleanup(func() { _ = rg.stop() })
	return rg
}
