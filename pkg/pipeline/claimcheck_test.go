package pipeline_test

import (
	"context"
	"testing"

	"hookline/pkg/event"
	"hookline/pkg/pipeline"
	"hookline/pkg/pipeline/publishertest"
)

// blobs is a BlobStore that keeps what it is given.
type blobs struct{ put map[string][]byte }

func (b *blobs) Put(_ context.Context, key string, body []byte, _ string) (string, error) {
	if b.put == nil {
		b.put = map[string][]byte{}
	}
	b.put[key] = body
	return "blob:" + key, nil
}

// TestClaimCheckBoundary: with a blob store, a body whose envelope would be one byte over a
// bus message travels as a reference; one byte less travels inline.
func TestClaimCheckBoundary(t *testing.T) {
	t.Parallel()
	bus := &publishertest.Recorder{}
	store := &blobs{}
	in := &pipeline.Ingest{Sources: ingestSources(t), Publisher: bus, Blobs: store, MaxBody: pipeline.LambdaPayloadBytes,
		Now: newIngest(t, bus).Now}
	const probe = 100
	if _, err := in.Accept(context.Background(), handRequest(jsonBody(probe))); err != nil {
		t.Fatal(err)
	}
	fits := probe + pipeline.MaxMessageBytes - bus.All()[0].Size() // the largest inline body
	for _, tc := range []struct {
		n       int
		claimed bool
	}{{fits, false}, {fits + 1, true}} {
		if _, err := in.Accept(context.Background(), handRequest(jsonBody(tc.n))); err != nil {
			t.Fatalf("%d-byte body: %v", tc.n, err)
		}
		m := bus.All()[bus.Len()-1]
		e, err := event.Decode(m.Body)
		if err != nil {
			t.Fatal(err)
		}
		if claimed := e.DataRef != ""; claimed != tc.claimed || m.Size() > pipeline.MaxMessageBytes {
			t.Errorf("%d-byte body: dataref %q, message %d bytes; want claim-checked %v, within %d", tc.n, e.DataRef, m.Size(), tc.claimed, pipeline.MaxMessageBytes)
		}
	}
	if len(store.put) != 1 {
		t.Errorf("%d bodies in the blob store, want 1", len(store.put))
	}
}
