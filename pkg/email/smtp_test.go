package email_test

import (
	"context"
	"crypto/tls"
	"net"
	"strings"
	"testing"

	"hookline/internal/smtptest"
	"hookline/pkg/email"
	"hookline/pkg/pipeline"
)

// relayName is how the tests address the relay: not a loopback name, so the mailer applies
// the rules for a relay across a network. smtp.Dial connects it to 127.0.0.1 all the same.
const relayName = "relay.example.test"

func viaLoopback(addr string) func(ctx context.Context, network, _ string) (net.Conn, error) {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
}

// TestSMTPRelay sends through a relay on 127.0.0.1 that requires STARTTLS and AUTH, with a
// certificate made for the test, and through relays that lack one or the other: credentials
// never cross an unencrypted connection to a non-loopback host, --smtp-tls refuses a server
// without STARTTLS, and a certificate the mailer cannot verify stops the send.
func TestSMTPRelay(t *testing.T) {
	t.Parallel()
	c, _ := email.NewComposer("", 0)
	msg, err := c.Compose(record(t, "measurement.finished", "application/json", `{"resource_type":"measurement","action":"finished"}`))
	if err != nil {
		t.Fatal(err)
	}
	const user, pass = "hookline@example.test", "relay-password"
	both := smtptest.Options{STARTTLS: true, Hosts: []string{relayName}, Mechanisms: []string{"PLAIN", "LOGIN"}, User: user, Password: pass}
	loginOnly := both
	loginOnly.Mechanisms = []string{"LOGIN"}
	noTLS := smtptest.Options{Mechanisms: []string{"PLAIN", "LOGIN"}, User: user, Password: pass, InsecureAuth: true}
	noTLSLogin := noTLS
	noTLSLogin.Mechanisms = []string{"LOGIN"}
	tlsNoAuth := smtptest.Options{STARTTLS: true, Hosts: []string{relayName}}

	tests := []struct {
		name     string
		relay    smtptest.Options
		mailer   email.SMTP
		trust    bool // give the mailer the relay's certificate
		wantErr  string
		wantMech string // the one AUTH the relay saw, over TLS; "" = none
		wantUser string // who the accepted email was sent as; "-" = no email accepted
	}{
		{name: "STARTTLS and PLAIN", relay: both, mailer: email.SMTP{Username: user, Password: pass, RequireTLS: true}, trust: true, wantMech: "PLAIN", wantUser: user},
		{name: "STARTTLS and LOGIN", relay: loginOnly, mailer: email.SMTP{Username: user, Password: pass}, trust: true, wantMech: "LOGIN", wantUser: user},
		{name: "opportunistic STARTTLS without AUTH", relay: tlsNoAuth, mailer: email.SMTP{}, trust: true, wantUser: ""},
		{name: "wrong password", relay: both, mailer: email.SMTP{Username: user, Password: "wrong"}, trust: true, wantErr: "AUTH: 535", wantMech: "PLAIN", wantUser: "-"},
		{name: "no STARTTLS: the password stays home", relay: noTLS, mailer: email.SMTP{Username: user, Password: pass}, wantErr: "not sending the password over an unencrypted connection", wantUser: "-"},
		{name: "no STARTTLS, LOGIN only: the password stays home", relay: noTLSLogin, mailer: email.SMTP{Username: user, Password: pass}, wantErr: "not sending the password over an unencrypted connection", wantUser: "-"},
		{name: "no STARTTLS but required", relay: smtptest.Options{}, mailer: email.SMTP{RequireTLS: true}, wantErr: "the server does not offer STARTTLS, and TLS is required", wantUser: "-"},
		{name: "certificate not trusted", relay: both, mailer: email.SMTP{Username: user, Password: pass}, wantErr: "STARTTLS: tls: failed to verify certificate", wantUser: "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			relay := smtptest.Start(t, tt.relay)
			m := tt.mailer
			m.Addr, m.Dial, m.To = relayName+":587", viaLoopback(relay.Addr), "ops <ops@example.test>"
			if tt.trust {
				m.TLSConfig = &tls.Config{RootCAs: relay.Roots}
			}
			err := m.Send(context.Background(), msg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("send: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("send: error %v, want %q", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), pass) {
				t.Errorf("the error shows the password: %v", err)
			}
			attempts := relay.Attempts()
			switch {
			case tt.wantMech == "" && len(attempts) > 0:
				t.Errorf("AUTH attempts %+v, want none", attempts)
			case tt.wantMech != "" && (len(attempts) != 1 || attempts[0].Mechanism != tt.wantMech || !attempts[0].TLS):
				t.Errorf("AUTH attempts %+v, want one %s over TLS", attempts, tt.wantMech)
			}
			got := relay.Messages()
			if tt.wantUser == "-" {
				if len(got) > 0 {
					t.Errorf("the relay accepted %d emails, want none", len(got))
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("the relay accepted %d emails, want 1", len(got))
			}
			if !got[0].TLS || got[0].User != tt.wantUser || got[0].To != "ops@example.test" ||
				!strings.Contains(string(got[0].Data), "X-Hookline-Event-Id: "+msg.EventID) {
				t.Errorf("accepted: tls=%v user=%q to=%q\n%s", got[0].TLS, got[0].User, got[0].To, got[0].Data)
			}
		})
	}
}

// TestSMTPLoopbackPlainAuth: to a relay on this machine (a tunnel, a local relay) credentials
// may go unencrypted, since they never cross a network; anywhere else they may not (above).
func TestSMTPLoopbackPlainAuth(t *testing.T) {
	t.Parallel()
	for _, mech := range []string{"PLAIN", "LOGIN"} {
		relay := smtptest.Start(t, smtptest.Options{Mechanisms: []string{mech}, User: "u", Password: "p", InsecureAuth: true})
		m := &email.SMTP{Addr: relay.Addr, Username: "u", Password: "p"}
		if err := m.Send(context.Background(), pipeline.Email{EventID: "e1", Subject: "s", Text: "b"}); err != nil {
			t.Fatalf("%s to %s: %v", mech, relay.Addr, err)
		}
		if got := relay.Messages(); len(got) != 1 || got[0].User != "u" || got[0].TLS {
			t.Errorf("%s: accepted %+v", mech, got)
		}
	}
}

func TestSMTPCheck(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		m    email.SMTP
		want string
	}{
		{email.SMTP{Addr: "relay"}, `smtp address "relay" is not host:port`},
		{email.SMTP{Addr: "relay:587", Username: "u"}, "give both a user and a password"},
		{email.SMTP{Addr: "relay:587", Password: "p"}, "give both a user and a password"},
	} {
		if err := tt.m.Check(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt.m, err, tt.want)
		}
	}
	if err := (&email.SMTP{Addr: "relay:587", Username: "u", Password: "p"}).Check(); err != nil {
		t.Error(err)
	}
}
