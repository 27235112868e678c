package email_test

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"hookline/internal/smtptest"
	"hookline/pkg/email"
	"hookline/pkg/pipeline/mailertest"
)

// TestOutboxContract: the mbox outbox passes the contract every pipeline.Mailer passes.
func TestOutboxContract(t *testing.T) {
	t.Parallel()
	mailertest.Run(t, func(t *testing.T) mailertest.Harness {
		dir := t.TempDir()
		file := filepath.Join(t.TempDir(), "a-file")
		if err := os.WriteFile(file, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		return mailertest.Harness{
			Mailer: &email.Outbox{Dir: filepath.Join(dir, "outbox")},
			Delivered: func(t *testing.T) []mailertest.Mail {
				box := &email.Outbox{Dir: filepath.Join(dir, "outbox")} // read as another process would
				ids, err := box.IDs()
				if err != nil {
					t.Fatal(err)
				}
				var got []mailertest.Mail
				for _, id := range ids {
					raw, err := box.Email(id)
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, mailertest.ParseMessage(t, raw))
				}
				return got
			},
			Broken: &email.Outbox{Dir: filepath.Join(file, "outbox")}, // under a file: cannot exist
		}
	})
}

// TestSMTPContract: the SMTP mailer, sending to a relay on 127.0.0.1, passes the contract
// every pipeline.Mailer passes.
func TestSMTPContract(t *testing.T) {
	t.Parallel()
	mailertest.Run(t, func(t *testing.T) mailertest.Harness {
		relay := smtptest.Start(t, smtptest.Options{})
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := l.Addr().String() // nothing listens there once l is closed
		l.Close()
		return mailertest.Harness{
			Mailer: &email.SMTP{Addr: relay.Addr, Timeout: 10 * time.Second},
			Delivered: func(t *testing.T) []mailertest.Mail {
				var got []mailertest.Mail
				for _, m := range relay.Messages() {
					got = append(got, mailertest.ParseMessage(t, m.Data))
				}
				return got
			},
			Broken: &email.SMTP{Addr: closed, Timeout: 10 * time.Second},
		}
	})
}
