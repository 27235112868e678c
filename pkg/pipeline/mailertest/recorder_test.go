package mailertest_test

import (
	"errors"
	"testing"

	"hookline/pkg/pipeline/mailertest"
)

// The Recorder stands in for the real mailers in other packages' tests, so it passes their
// contract too.
func TestRecorderContract(t *testing.T) {
	mailertest.Run(t, func(t *testing.T) mailertest.Harness {
		r, broken := &mailertest.Recorder{}, &mailertest.Recorder{}
		broken.Fail(errors.New("mail server down"))
		delivered := func(*testing.T) (got []mailertest.Mail) {
			for _, m := range r.All() {
				got = append(got, mailertest.Mail{Subject: m.Subject, Text: m.Text, Source: m.Source, Type: m.Type})
			}
			return got
		}
		return mailertest.Harness{Mailer: r, Delivered: delivered, Broken: broken}
	})
}
