package storetest_test

import (
	"testing"

	"hookline/pkg/pipeline"
	"hookline/pkg/pipeline/storetest"
)

// TestMemoryContract: the in-memory store meets the contract it is the reference of.
func TestMemoryContract(t *testing.T) {
	storetest.Run(t, func(*testing.T) pipeline.Store { return &storetest.Memory{} })
}
