package email

import (
	"context"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"time"

	"hookline/pkg/pipeline"
)

// SMTP is a Mailer that sends each email to an SMTP server (a local mail catcher or a relay).
type SMTP struct {
	Addr     string // host:port
	From, To string // defaults DefaultFrom, DefaultTo
	Timeout  time.Duration
	Now      func() time.Time
}

var _ pipeline.Mailer = (*SMTP)(nil)

// Send delivers one email in its own SMTP session, bounded by Timeout and ctx.
func (s *SMTP) Send(ctx context.Context, m pipeline.Email) error {
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
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", s.Addr, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	host, _, _ := net.SplitHostPort(s.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", s.Addr, err)
	}
	defer c.Close()
	if err := c.Mail(fromAddr.Address); err != nil {
		return fmt.Errorf("smtp MAIL FROM: %w", err)
	}
	if err := c.Rcpt(toAddr.Address); err != nil {
		return fmt.Errorf("smtp RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("smtp DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp DATA: %w", err)
	}
	if err := c.Quit(); err != nil {
		return fmt.Errorf("smtp QUIT: %w", err)
	}
	return nil
}
