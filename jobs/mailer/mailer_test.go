package mailer

import (
	"strings"
	"testing"
)

func TestNewReadsSMTPURL(t *testing.T) {
	cases := []struct {
		url, from string
		wantErr   string
		wantAddr  string
		wantAuth  bool
	}{
		{url: "", wantAddr: ""},
		{url: "smtp://mail.example.com:587", wantAddr: "mail.example.com:587"},
		{url: "smtp://user:pa%40ss@127.0.0.1:2525", wantAddr: "127.0.0.1:2525", wantAuth: true},
		{url: "smtp://mail.example.com", wantAddr: "mail.example.com:25"},
		{url: "smtps://mail.example.com", wantAddr: "mail.example.com:465"},
		{url: "http://mail.example.com", wantErr: "smtp://"},
		{url: "smtp://:25", wantErr: "no host"},
		{url: "smtp://mail.example.com:25", from: "not an address", wantErr: "SMTP_FROM"},
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			m, err := New(c.url, c.from)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.wantAddr == "" {
				if m != nil {
					t.Fatalf("empty SMTP_URL made a mailer: %+v", m)
				}
				return
			}
			if m.addr != c.wantAddr || (m.auth != nil) != c.wantAuth || m.envelope != DefaultFrom {
				t.Fatalf("mailer = %+v", m)
			}
		})
	}
}

// A subject cannot add headers: line breaks in it are folded away.
func TestRenderKeepsHeadersSingleLine(t *testing.T) {
	m, err := New("smtp://127.0.0.1:25", "Automations <a@example.com>")
	if err != nil {
		t.Fatal(err)
	}
	out := string(m.render("to@example.com", Message{Subject: "Hi\r\nBcc: evil@example.com", Body: "body"}))
	head, body, _ := strings.Cut(out, "\n\n")
	if strings.Contains(head, "\nBcc:") || !strings.Contains(head, "Subject: Hi Bcc: evil@example.com") || body != "body\n" {
		t.Fatalf("rendered:\n%s", out)
	}
	if !strings.Contains(head, `From: "Automations" <a@example.com>`) || !strings.Contains(head, "To: to@example.com") {
		t.Fatalf("addresses:\n%s", head)
	}
}
