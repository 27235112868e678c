package engine_test

import (
	"testing"

	"hookline/pkg/local/engine/enginetest"
	"hookline/pkg/pipeline"
	"hookline/pkg/pipeline/digesttest"
)

func TestDigestContract(t *testing.T) {
	digesttest.Run(t, func(t *testing.T) pipeline.DigestStore { return enginetest.Open(t, "").Events() })
}
