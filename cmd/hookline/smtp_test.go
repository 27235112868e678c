package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"hookline/internal/smtptest"
	"hookline/internal/testenv"
)

// TestLocalSendsThroughRelay runs the real binary as a user would point it at a relay:
// `hookline local --smtp HOST:PORT --smtp-tls` with HOOKLINE_SMTP_USER/PASSWORD, against a relay
// on 127.0.0.1 that requires STARTTLS and AUTH, its certificate made for this test and trusted
// through SSL_CERT_FILE. A webhook sent with `hookline send` comes out at the relay, over TLS,
// sent as that user.
func TestLocalSendsThroughRelay(t *testing.T) {
	t.Parallel()
	const user, pass = "hookline", "relay-secret-pw"
	relay := smtptest.Start(t, smtptest.Options{STARTTLS: true, Mechanisms: []string{"PLAIN", "LOGIN"}, User: user, Password: pass})
	bin := sharedCLI(t)
	dir := t.TempDir()
	sources := filepath.Join(dir, "sources.json")
	if err := os.WriteFile(sources, []byte(sourcesJSON), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := testenv.Peer(bin, "local", "--addr", addr, "--data", filepath.Join(dir, "data"), "--sources", sources,
		"--smtp", relay.Addr, "--smtp-tls", "--log-format", "json", "--log-level", "warn")
	cmd.Env = append(os.Environ(), "HOOKLINE_SMTP_USER="+user, "HOOKLINE_SMTP_PASSWORD="+pass, "SSL_CERT_FILE="+relay.CertFile)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	eventually(t, 20*time.Second, func() string {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return "not healthy: " + err.Error() + "\n" + out.String()
		}
		resp.Body.Close()
		return ""
	})
	// hookline prints the whole banner before it serves, but the lines reach out through a pipe
	// and exec's copying goroutine, which can lag behind /healthz: wait for the line.
	want := "email:   SMTP to " + relay.Addr + " (STARTTLS required, AUTH as " + user + ")"
	eventually(t, 20*time.Second, func() string {
		if !strings.Contains(out.String(), want) {
			return fmt.Sprintf("banner does not say %q:\n%s", want, out.String())
		}
		return ""
	})

	var stdout bytes.Buffer
	err = run(context.Background(), []string{"send", "--url", "http://" + addr, "--scheme", "token", "--secret", tokenSecret,
		"--source", "postman", "--json", `{"type":"relay.check"}`}, noenv, strings.NewReader(""), &stdout, &stdout)
	if err != nil {
		t.Fatalf("send: %v\n%s", err, stdout.String())
	}
	id := jsonField(t, stdout.Bytes(), "event_id")
	select {
	case <-relay.Arrived():
	case <-time.After(30 * time.Second):
		t.Fatalf("no email reached the relay in 30s; hookline said:\n%s", out.String())
	}
	got := relay.Messages()
	if len(got) != 1 || !got[0].TLS || got[0].User != user || !strings.Contains(string(got[0].Data), "X-Hookline-Event-Id: "+id) {
		t.Errorf("relay got %d emails; first: tls=%v user=%q\n%s", len(got), got[0].TLS, got[0].User, got[0].Data)
	}
	if a := relay.Attempts(); len(a) != 1 || !a[0].TLS || !a[0].OK {
		t.Errorf("AUTH attempts: %+v, want one that succeeded over TLS", a)
	}
	if strings.Contains(out.String(), pass) {
		t.Errorf("hookline printed the SMTP password:\n%s", out.String())
	}
}

// jsonField returns a string field of one JSON object.
func jsonField(t *testing.T, b []byte, name string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	s, _ := m[name].(string)
	if s == "" {
		t.Fatalf("no %q in %s", name, b)
	}
	return s
}

// TestSMTPCredentialsFromEnvironment: half a pair of credentials is a usage error, and a user
// without --smtp too (the emails would go to the outbox file and the credentials be ignored).
func TestSMTPCredentialsFromEnvironment(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"HOOKLINE_SMTP_USER": "u"}, []string{"local", "--smtp", "relay.example.test:587"}, "set both or neither"},
		{map[string]string{"HOOKLINE_SMTP_PASSWORD": "p"}, []string{"local", "--smtp", "relay.example.test:587"}, "set both or neither"},
		{map[string]string{"HOOKLINE_SMTP_USER": "u", "HOOKLINE_SMTP_PASSWORD": "p"}, []string{"local"}, "need --smtp HOST:PORT"},
		{map[string]string{"HOOKLINE_SMTP_TLS": "yes"}, []string{"local"}, `HOOKLINE_SMTP_TLS: strconv.ParseBool: parsing "yes"`},
	} {
		err := run(context.Background(), tc.args, func(k string) string { return tc.env[k] }, strings.NewReader(""), io.Discard, io.Discard)
		if code := exitCode(io.Discard, err); code != exitUsage || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: exit %d, %v; want a usage error with %q", tc.env, tc.args, code, err, tc.want)
		}
	}
}
