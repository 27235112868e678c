package cost

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

// Measured is what the functions' code was measured to log (logs.json): TestMeasuredLogs runs
// the real Lambda handlers with the production log handler and EMF writer on one event and on
// a batch, and fails when their output no longer matches this file (-update rewrites it).
type Measured struct {
	Functions map[string]LogLines `json:"functions"`
}

// MarshalJSON-friendly shape of LogLines.
type logLinesJSON struct {
	BytesPerInvocation float64 `json:"bytes_per_invocation"`
	LinesPerInvocation float64 `json:"lines_per_invocation"`
	BytesPerRecord     float64 `json:"bytes_per_record"`
	LinesPerRecord     float64 `json:"lines_per_record"`
}

// MarshalJSON writes the snake_case shape of logs.json.
func (l LogLines) MarshalJSON() ([]byte, error) {
	return json.Marshal(logLinesJSON(l))
}

// UnmarshalJSON reads the snake_case shape of logs.json.
func (l *LogLines) UnmarshalJSON(b []byte) error {
	var j logLinesJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*l = LogLines(j)
	return nil
}

//go:embed logs.json
var measuredLogs []byte

// MeasuredLogs returns the checked-in measurement.
func MeasuredLogs() (Measured, error) {
	var m Measured
	if err := json.Unmarshal(measuredLogs, &m); err != nil {
		return m, fmt.Errorf("logs.json: %w", err)
	}
	return m, nil
}

//go:embed template.json
var embeddedTemplate []byte

// EmbeddedTemplate is the pruned synthesized template checked in next to the model; infra's
// TestCostTemplate fails when the stack no longer synthesizes to it (-update rewrites it).
func EmbeddedTemplate() []byte { return embeddedTemplate }

//go:embed template-provisioned.json
var embeddedProvisionedTemplate []byte

// EmbeddedProvisionedTemplate is the pruned template of the stack synthesized with
// -c tableCapacity=provisioned (its defaults), kept in step by the same test.
func EmbeddedProvisionedTemplate() []byte { return embeddedProvisionedTemplate }
