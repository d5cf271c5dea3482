package jobs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"
)

// NoticeMailer sends plain-text notices through the SMTP server of
// SMTP_URL (smtp://[user:pass@]host:port; STARTTLS when offered). It is
// deliberately small: the users branch brings the full mailer, which this
// can be replaced by.
type NoticeMailer struct {
	addr string
	auth smtp.Auth
	from string
}

// NewNoticeMailer parses SMTP_URL and SMTP_FROM; an empty URL returns nil.
func NewNoticeMailer(rawURL, from string) (*NoticeMailer, error) {
	if strings.TrimSpace(rawURL) == "" {
		return nil, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "smtp" || u.Hostname() == "" {
		return nil, errors.New("SMTP_URL must look like smtp://user:pass@host:port or smtp://host:port")
	}
	port := u.Port()
	if port == "" {
		port = "25"
	}
	if from == "" {
		from = "automations@localhost"
	}
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("SMTP_FROM %q is not an email address", from)
	}
	m := &NoticeMailer{addr: net.JoinHostPort(u.Hostname(), port), from: addr.Address}
	if u.User != nil {
		pass, _ := u.User.Password()
		m.auth = smtp.PlainAuth("", u.User.Username(), pass, u.Hostname())
	}
	return m, nil
}

// Send mails body to every address in to.
func (m *NoticeMailer) Send(ctx context.Context, to []string, subject, body string) error {
	done := make(chan error, 1)
	go func() {
		msg := "From: " + m.from + "\r\nTo: " + strings.Join(to, ", ") + "\r\nSubject: " + mimeHeader(subject) +
			"\r\nDate: " + time.Now().UTC().Format(time.RFC1123Z) +
			"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
			strings.ReplaceAll(body, "\n", "\r\n")
		done <- smtp.SendMail(m.addr, m.auth, m.from, to, []byte(msg))
	}()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("send mail: %w", err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// mimeHeader keeps a header value on one line.
func mimeHeader(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}
