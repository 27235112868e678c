package pipeline_test

import (
	"testing"

	"hookline/pkg/pipeline"
	"hookline/pkg/pipeline/digesttest"
)

func TestDigestMemory(t *testing.T) {
	digesttest.Run(t, func(*testing.T) pipeline.DigestStore { return &digesttest.Memory{} })
}
