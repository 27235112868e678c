package publishertest_test

import (
	"errors"
	"testing"

	"hookline/pkg/pipeline/publishertest"
)

// The Recorder stands in for the real topics in other packages' tests, so it passes their
// contract too: what it keeps is what each subscriber of such a topic would get.
func TestRecorderContract(t *testing.T) {
	publishertest.Run(t, func(t *testing.T) publishertest.Harness {
		r, broken := &publishertest.Recorder{}, &publishertest.Recorder{}
		broken.Fail(errors.New("topic gone"))
		received := func(*testing.T) [2][]publishertest.Received {
			var got []publishertest.Received
			for _, m := range r.All() {
				got = append(got, publishertest.Received{Body: m.Body, Source: m.Source, Type: m.Type})
			}
			return [2][]publishertest.Received{got, got}
		}
		return publishertest.Harness{Publisher: r, Received: received, Broken: broken}
	})
}
