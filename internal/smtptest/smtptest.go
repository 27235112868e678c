// Package smtptest runs an SMTP relay on 127.0.0.1 for tests: it speaks STARTTLS with a
// certificate made at start-up, requires AUTH (PLAIN and/or LOGIN) before it takes mail, and
// records what each session did, so tests of hookline's SMTP mailer can show what went over
// TLS and what was refused. It uses github.com/emersion/go-smtp, a maintained SMTP server
// library; nothing in the product imports it.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options say what the relay demands. The zero value is a plain server without AUTH.
type Options struct {
	// STARTTLS offers STARTTLS with a certificate for Hosts.
	STARTTLS bool
	// Hosts the certificate is valid for (DNS names or IPs); default 127.0.0.1.
	Hosts []string
	// Mechanisms offered for AUTH, e.g. "PLAIN", "LOGIN"; none = no AUTH, mail taken as is.
	// With mechanisms, MAIL FROM is refused until a client authenticated as User/Password.
	Mechanisms []string
	User       string
	Password   string
	// InsecureAuth offers AUTH without TLS, like a relay behind a tunnel on loopback.
	InsecureAuth bool
}

// Message is one email the relay accepted.
type Message struct {
	From, To string
	Data     []byte
	User     string // who authenticated ("" = nobody)
	TLS      bool   // whether the session was encrypted when DATA arrived
}

// Attempt is what one AUTH command looked like to the server.
type Attempt struct {
	Mechanism string
	TLS       bool
	OK        bool
}

// Server is a running relay.
type Server struct {
	Addr     string // 127.0.0.1:port
	CertPEM  []byte // the CA certificate that signed the server's (self-signed: the same)
	CertFile string // CertPEM written to a file, for SSL_CERT_FILE
	Roots    *x509.CertPool

	mu       sync.Mutex
	messages []Message
	attempts []Attempt
	sessions int
	arrived  chan struct{}
}

// Start runs a relay until the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	s := &Server{arrived: make(chan struct{}, 100)}
	hosts := o.Hosts
	if len(hosts) == 0 {
		hosts = []string{"127.0.0.1"}
	}
	cert, certPEM, err := selfSigned(hosts)
	if err != nil {
		t.Fatal(err)
	}
	s.CertPEM = certPEM
	s.Roots = x509.NewCertPool()
	s.Roots.AppendCertsFromPEM(certPEM)
	s.CertFile = filepath.Join(t.TempDir(), "relay-ca.pem")
	if err := os.WriteFile(s.CertFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}

	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		s.mu.Lock()
		s.sessions++
		s.mu.Unlock()
		return &session{srv: s, opts: o, conn: c}, nil
	}))
	srv.Domain = "relay.test"
	srv.AllowInsecureAuth = o.InsecureAuth
	srv.ReadTimeout, srv.WriteTimeout = 30*time.Second, 30*time.Second
	srv.ErrorLog = silent{}
	if o.STARTTLS {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = l.Addr().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	t.Cleanup(func() {
		// go-smtp's Close only closes the listeners Serve has registered: a test that
		// ends before the goroutine gets there would leave Serve blocked in Accept.
		_ = srv.Close()
		_ = l.Close()
		<-done
	})
	return s
}

// Messages returns the emails accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Attempts returns the AUTH commands seen so far.
func (s *Server) Attempts() []Attempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Attempt(nil), s.attempts...)
}

// Sessions returns how many connections the relay has had.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

// Arrived is signalled once per accepted email.
func (s *Server) Arrived() <-chan struct{} { return s.arrived }

type session struct {
	srv  *Server
	opts Options
	conn *smtp.Conn
	user string
	from string
	to   string
}

var _ smtp.AuthSession = (*session)(nil)

func (s *session) tls() bool {
	_, ok := s.conn.TLSConnectionState()
	return ok
}

func (s *session) AuthMechanisms() []string { return s.opts.Mechanisms }

func (s *session) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		ok := user == s.opts.User && pass == s.opts.Password
		s.srv.mu.Lock()
		s.srv.attempts = append(s.srv.attempts, Attempt{Mechanism: mech, TLS: s.tls(), OK: ok})
		s.srv.mu.Unlock()
		if !ok {
			return smtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if len(s.opts.Mechanisms) > 0 && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = to
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := Message{From: s.from, To: s.to, Data: bytes.Clone(b), User: s.user, TLS: s.tls()}
	s.srv.mu.Lock()
	s.srv.messages = append(s.srv.messages, m)
	s.srv.mu.Unlock()
	select {
	case s.srv.arrived <- struct{}{}:
	default:
	}
	return nil
}

func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

// loginServer is the server side of AUTH LOGIN (draft-murchison-sasl-login), which go-sasl
// implements only for clients: ask for the user name, then the password.
type loginServer struct {
	check func(user, pass string) error
	step  int
	user  string
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step = 1
		if len(response) == 0 {
			return []byte("Username:"), false, nil
		}
		fallthrough // the user name came as the initial response
	case 1:
		l.user, l.step = string(response), 2
		return []byte("Password:"), false, nil
	case 2:
		l.step = 3
		return nil, true, l.check(l.user, string(response))
	}
	return nil, false, errors.New("unexpected response")
}

// selfSigned makes an ECDSA certificate for hosts, valid for a day.
func selfSigned(hosts []string) (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "smtptest relay"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, certPEM, nil
}

type silent struct{}

func (silent) Printf(string, ...interface{}) {}
func (silent) Println(...interface{})        {}

// EventID is the event an accepted email is about (its X-Hookline-Event-Id header), "" when
// the message does not parse or names none.
func (m Message) EventID() string {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return ""
	}
	return msg.Header.Get("X-Hookline-Event-Id")
}

// PerEvent counts the accepted emails by event id: sends as the mail server saw them, which
// is what "exactly one email" means (an outbox of one file per event cannot show a second send).
func (s *Server) PerEvent() map[string]int {
	n := map[string]int{}
	for _, m := range s.Messages() {
		n[m.EventID()]++
	}
	return n
}
