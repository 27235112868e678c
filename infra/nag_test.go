package main

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// nagFindings lists cdk-nag AwsSolutions messages of one level that no suppression covers.
func nagFindings(f *fixture, level string) []string {
	a := assertions.Annotations_FromStack(f.h.Stack)
	find := a.FindError
	if level == "warning" {
		find = a.FindWarning
	}
	var out []string
	for _, m := range *find(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))) {
		//lint:ignore SA1019 assertions.Annotations returns cxapi.SynthesisMessage in awscdk v2.270.0; the type's new home has no Go binding yet.
		out = append(out, fmt.Sprintf("%s: %v", *m.Id, m.Entry.Data))
	}
	sort.Strings(out)
	return out
}

// TestNagAwsSolutions runs cdk-nag's AwsSolutions pack over both stacks: any error-level
// finding that is not suppressed with a reason fails the build.
func TestNagAwsSolutions(t *testing.T) {
	for name, f := range map[string]*fixture{"prod": prod(t), "dev": dev(t)} {
		if errs := nagFindings(f, "error"); len(errs) > 0 {
			t.Errorf("%s stack: %d unsuppressed AwsSolutions findings:\n%s", name, len(errs), strings.Join(errs, "\n"))
		}
		for _, w := range nagFindings(f, "warning") {
			t.Logf("%s stack: warning %s", name, w)
		}
	}
}
