package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/smtp"
	"slices"
	"strings"
	"time"

	"hookline/pkg/pipeline"
)

// SMTP is a Mailer that sends each email to an SMTP server: a local mail catcher or a relay.
//
// It upgrades the session with STARTTLS whenever the server offers it, verifying the server's
// certificate (system roots, or TLSConfig.RootCAs), and with RequireTLS refuses a server that
// does not. With a Username it authenticates with AUTH PLAIN, or LOGIN when that is all the
// server offers, and only over TLS — or to a loopback address (127.0.0.0/8, ::1, localhost),
// where nothing crosses a network: a local relay, a tunnel to one, a mail catcher.
// Implicit TLS (SMTPS, port 465) is not spoken; relays offer STARTTLS on 587.
type SMTP struct {
	Addr     string // host:port
	From, To string // defaults DefaultFrom, DefaultTo
	Timeout  time.Duration
	Now      func() time.Time

	RequireTLS         bool
	Username, Password string
	// TLSConfig for STARTTLS; nil = verify against the system roots. ServerName defaults to
	// Addr's host.
	TLSConfig *tls.Config
	// Dial opens the connection; nil = net.Dialer. Tests use it to reach a relay on 127.0.0.1
	// under a name that is not loopback.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

var _ pipeline.Mailer = (*SMTP)(nil)

// Check reports a configuration that cannot work, before anything is sent.
func (s *SMTP) Check() error {
	host, _, err := net.SplitHostPort(s.Addr)
	switch {
	case err != nil || host == "":
		return fmt.Errorf("smtp address %q is not host:port", s.Addr)
	case (s.Username == "") != (s.Password == ""):
		return errors.New("smtp: give both a user and a password, or neither")
	}
	return nil
}

// Send delivers one email in its own SMTP session, bounded by Timeout and ctx.
func (s *SMTP) Send(ctx context.Context, m pipeline.Email) error {
	if err := s.Check(); err != nil {
		return err
	}
	from, to := or(s.From, DefaultFrom), or(s.To, DefaultTo)
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	msg, err := Message(m, from, to, now())
	if err != nil {
		return err
	}
	fromAddr, _ := mail.ParseAddress(from) // validated by Message
	toAddr, _ := mail.ParseAddress(to)
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	dial := s.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	conn, err := dial(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", s.Addr, err)
	}
	defer conn.Close()
	defer context.AfterFunc(ctx, func() { conn.Close() })() // a cancelled send stops at once
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	host, _, _ := net.SplitHostPort(s.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", s.Addr, err)
	}
	defer c.Close()
	if err := s.secure(c, host); err != nil {
		return err
	}
	if err := c.Mail(fromAddr.Address); err != nil {
		return fmt.Errorf("smtp %s: MAIL FROM: %w", s.Addr, err)
	}
	if err := c.Rcpt(toAddr.Address); err != nil {
		return fmt.Errorf("smtp %s: RCPT TO: %w", s.Addr, err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp %s: DATA: %w", s.Addr, err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("smtp %s: DATA: %w", s.Addr, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp %s: DATA: %w", s.Addr, err)
	}
	if err := c.Quit(); err != nil {
		return fmt.Errorf("smtp %s: QUIT: %w", s.Addr, err)
	}
	return nil
}

// secure runs STARTTLS and AUTH as the settings and the server's EHLO answer call for.
func (s *SMTP) secure(c *smtp.Client, host string) error {
	encrypted := false
	if ok, _ := c.Extension("STARTTLS"); ok {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if s.TLSConfig != nil {
			cfg = s.TLSConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = host
		}
		if err := c.StartTLS(cfg); err != nil {
			return fmt.Errorf("smtp %s: STARTTLS: %w", s.Addr, err)
		}
		encrypted = true
	} else if s.RequireTLS {
		return fmt.Errorf("smtp %s: the server does not offer STARTTLS, and TLS is required", s.Addr)
	}
	if s.Username == "" {
		return nil
	}
	if !encrypted && !isLoopback(host) {
		return fmt.Errorf("smtp %s: the server does not offer STARTTLS: not sending the password over an unencrypted connection", s.Addr)
	}
	ok, mechs := c.Extension("AUTH")
	if !ok {
		return fmt.Errorf("smtp %s: a user is set but the server offers no AUTH", s.Addr)
	}
	var auth smtp.Auth
	switch offered := strings.Fields(strings.ToUpper(mechs)); {
	case slices.Contains(offered, "PLAIN"):
		// net/smtp's PlainAuth refuses plaintext itself too, except to 127.0.0.1, ::1, localhost.
		auth = smtp.PlainAuth("", s.Username, s.Password, host)
	case slices.Contains(offered, "LOGIN"):
		auth = &loginAuth{user: s.Username, pass: s.Password}
	default:
		return fmt.Errorf("smtp %s: the server offers AUTH %s; hookline speaks PLAIN and LOGIN", s.Addr, mechs)
	}
	if err := c.Auth(auth); err != nil {
		return fmt.Errorf("smtp %s: AUTH: %w", s.Addr, err)
	}
	return nil
}

// isLoopback reports a host that names this machine: its traffic never leaves it.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// loginAuth is AUTH LOGIN (draft-murchison-sasl-login), which net/smtp lacks and some relays
// offer alone: the server asks for the user name, then the password.
type loginAuth struct{ user, pass string }

func (a *loginAuth) Start(*smtp.ServerInfo) (string, []byte, error) { return "LOGIN", nil, nil }

func (a *loginAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	switch q := strings.ToLower(strings.TrimSpace(string(fromServer))); {
	case strings.HasPrefix(q, "user"):
		return []byte(a.user), nil
	case strings.HasPrefix(q, "pass"):
		return []byte(a.pass), nil
	default:
		return nil, fmt.Errorf("unexpected AUTH LOGIN challenge %q", fromServer)
	}
}
