// Package mailer sends plain-text mail through the SMTP server of SMTP_URL
// (DESIGN.md §13: invitation links are mailed when it is set).
package mailer

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"
)

// DefaultFrom is SMTP_FROM's default.
const DefaultFrom = "automations@localhost"

// sendTimeout bounds one message from dial to QUIT: mail is sent while an
// admin waits for the page, and a slow server must not hold it for long.
const sendTimeout = 15 * time.Second

// Mailer sends mail through one SMTP server. A nil *Mailer sends nothing.
type Mailer struct {
	addr     string // host:port
	host     string
	implicit bool // smtps://: TLS from the first byte
	auth     smtp.Auth
	from     string // the From header, as configured
	envelope string // its bare address, for MAIL FROM
}

// New parses SMTP_URL (smtp://[user:pass@]host:port, or smtps:// for TLS
// from the start; smtp:// upgrades with STARTTLS when the server offers it)
// and SMTP_FROM. An empty rawURL returns nil: mail is off.
func New(rawURL, from string) (*Mailer, error) {
	if strings.TrimSpace(rawURL) == "" {
		return nil, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("SMTP_URL is not a URL: use smtp://user:pass@host:port or smtp://host:port")
	}
	if u.Scheme != "smtp" && u.Scheme != "smtps" {
		return nil, fmt.Errorf("SMTP_URL must start with smtp:// or smtps://, not %s://", u.Scheme)
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		return nil, errors.New("SMTP_URL has no host")
	}
	if port == "" {
		port = "25"
		if u.Scheme == "smtps" {
			port = "465"
		}
	}
	if from == "" {
		from = DefaultFrom
	}
	fromAddr, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("SMTP_FROM %q is not an email address", from)
	}
	m := &Mailer{addr: net.JoinHostPort(host, port), host: host, implicit: u.Scheme == "smtps", from: fromAddr.String(), envelope: fromAddr.Address}
	if u.User != nil {
		pass, _ := u.User.Password()
		// net/smtp's PlainAuth refuses to send the password unencrypted
		// except to localhost, so a misconfigured server cannot read it.
		m.auth = smtp.PlainAuth("", u.User.Username(), pass, host)
	}
	return m, nil
}

// Message is one plain-text mail.
type Message struct {
	To      string
	Subject string
	Body    string
}

// Send delivers msg, or returns why it could not.
func (m *Mailer) Send(ctx context.Context, msg Message) error {
	if m == nil {
		return errors.New("mail is not configured (SMTP_URL)")
	}
	to, err := mail.ParseAddress(msg.To)
	if err != nil {
		return fmt.Errorf("recipient %q: %w", msg.To, err)
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	conn, err := m.dial(ctx)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", m.addr, err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	c, err := smtp.NewClient(conn, m.host)
	if err != nil {
		return fmt.Errorf("smtp greeting from %s: %w", m.addr, err)
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return fmt.Errorf("smtp hello: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok && !m.implicit {
		if err := c.StartTLS(&tls.Config{ServerName: m.host}); err != nil {
			return fmt.Errorf("smtp starttls: %w", err)
		}
	}
	if m.auth != nil {
		if err := c.Auth(m.auth); err != nil {
			return fmt.Errorf("smtp auth: %w", err)
		}
	}
	if err := c.Mail(m.envelope); err != nil {
		return fmt.Errorf("smtp MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to.Address); err != nil {
		return fmt.Errorf("smtp RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp DATA: %w", err)
	}
	if _, err := w.Write(m.render(to.Address, msg)); err != nil {
		return fmt.Errorf("smtp write message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp end of message: %w", err)
	}
	return c.Quit()
}

func (m *Mailer) dial(ctx context.Context) (net.Conn, error) {
	d := &net.Dialer{}
	if m.implicit {
		td := &tls.Dialer{NetDialer: d, Config: &tls.Config{ServerName: m.host}}
		return td.DialContext(ctx, "tcp", m.addr)
	}
	return d.DialContext(ctx, "tcp", m.addr)
}

// render builds the message text. Header values are single lines (the
// subject is Q-encoded, addresses were parsed), so no header can be
// injected; smtp's data writer turns \n into \r\n and escapes leading dots.
func (m *Mailer) render(to string, msg Message) []byte {
	var b bytes.Buffer
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	domain := "localhost"
	if at := strings.LastIndex(m.envelope, "@"); at >= 0 {
		domain = m.envelope[at+1:]
	}
	subject := strings.Join(strings.Fields(msg.Subject), " ")
	fmt.Fprintf(&b, "From: %s\n", m.from)
	fmt.Fprintf(&b, "To: %s\n", to)
	fmt.Fprintf(&b, "Subject: %s\n", mime.QEncoding.Encode("utf-8", subject))
	fmt.Fprintf(&b, "Date: %s\n", time.Now().UTC().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s@%s>\n", hex.EncodeToString(id), domain)
	b.WriteString("MIME-Version: 1.0\n")
	b.WriteString("Content-Type: text/plain; charset=utf-8\n")
	b.WriteString("Content-Transfer-Encoding: 8bit\n\n")
	b.WriteString(strings.ReplaceAll(msg.Body, "\r\n", "\n"))
	if !strings.HasSuffix(msg.Body, "\n") {
		b.WriteString("\n")
	}
	return b.Bytes()
}
