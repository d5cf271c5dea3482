package sender

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// TestValidateURL is the save-time check. wantErr is a phrase the user sees;
// "" means the URL is accepted.
func TestValidateURL(t *testing.T) {
	strict := newTestSender(t, Config{})
	allowing := newTestSender(t, Config{AllowedTargets: []string{"127.0.0.0/8", "::1/128", "jenkins.internal", "localhost"}})
	loopbackOnly := newTestSender(t, Config{AllowedTargets: []string{"127.0.0.1/32"}})
	loopback6Only := newTestSender(t, Config{AllowedTargets: []string{"::1"}})
	otherCIDR := newTestSender(t, Config{AllowedTargets: []string{"10.0.0.0/8"}})
	tests := []struct {
		name    string
		s       *Sender
		url     string
		wantErr string
	}{
		{"https host name", strict, "https://hooks.example.com/services/T0/B0/x", ""},
		{"http with a port", strict, "http://jenkins.example.com:8080/job/build", ""},
		{"upper-case scheme and host", strict, "HTTPS://Hooks.Example.COM/", ""},
		{"surrounding spaces", strict, "  https://hooks.example.com/  ", ""},
		{"punycode host", strict, "https://xn--mnchen-3ya.de/hook", ""},
		{"unicode host", strict, "https://münchen.de/hook", ""},
		{"underscore label", strict, "https://my_service.example.com/", ""},
		{"trailing-dot host", strict, "https://hooks.example.com./", ""},

		{"no scheme", strict, "hooks.example.com/x", "must start with http:// or https://"},
		{"file", strict, "file:///etc/passwd", "not file:"},
		{"gopher", strict, "gopher://hooks.example.com/", "not gopher:"},
		{"ftp", strict, "ftp://hooks.example.com/", "not ftp:"},
		{"javascript", strict, "javascript:alert(1)", "not javascript:"},
		{"data", strict, "data:text/plain,hi", "not data:"},
		{"websocket", strict, "ws://hooks.example.com/", "not ws:"},
		{"opaque http", strict, "http:hooks.example.com", "must look like http://host/path"},
		{"not a URL", strict, "http://exa mple.com/", "not a valid URL"},
		{"no host", strict, "http:///path", "needs a host name"},
		{"port only", strict, "http://:8080/", "needs a host name"},
		{"port 0", strict, "http://hooks.example.com:0/", "port"},
		{"port too big", strict, "http://hooks.example.com:99999/", "port"},
		{"user", strict, "http://user@hooks.example.com/", "user name or password"},
		{"user and password", strict, "https://user:pw@hooks.example.com/", "user name or password"},
		{"allowed host as user", allowing, "http://jenkins.internal@10.0.0.1/", "user name or password"},

		{"IPv4 literal", strict, "http://127.0.0.1/", "not an IP address (127.0.0.1 is a loopback address)"},
		{"private IPv4", strict, "http://10.0.0.1:8080/", "10.0.0.1 is a private"},
		{"metadata IPv4", strict, "http://169.254.169.254/latest/", "cloud metadata"},
		{"public IPv4", strict, "http://93.184.216.34/", "not an IP address"},
		{"IPv6 loopback", strict, "http://[::1]/", "loopback"},
		{"IPv6 zone", strict, "http://[fe80::1%25eth0]/", "link-local"},
		{"IPv4-mapped", strict, "http://[::ffff:127.0.0.1]/", "IPv4-mapped"},
		{"IPv4-mapped hex", strict, "http://[::ffff:7f00:1]/", "loopback"},
		{"NAT64", strict, "http://[64:ff9b::7f00:1]/", "NAT64"},
		{"6to4", strict, "http://[2002:7f00:1::]/", "6to4"},
		{"metadata IPv6", strict, "http://[fd00:ec2::254]/", "cloud metadata"},
		{"full-width digits", strict, "http://１２７.０.０.１/", "127.0.0.1 is a loopback address"},
		{"decimal", strict, "http://2130706433/", "IP address 127.0.0.1 written another way"},
		{"octal", strict, "http://0177.0.0.1/", "IP address 127.0.0.1"},
		{"hex", strict, "http://0x7f.0.0.1/", "IP address 127.0.0.1"},
		{"hex integer", strict, "http://0x7f000001/", "IP address 127.0.0.1"},
		{"shorthand", strict, "http://127.1/", "IP address 127.0.0.1"},
		{"shorthand 3 parts", strict, "http://127.0.1/", "IP address 127.0.0.1"},
		{"zero", strict, "http://0/", "IP address 0.0.0.0"},
		{"metadata as a number", strict, "http://2852039166/", "IP address 169.254.169.254"},
		{"IP with trailing dot", strict, "http://127.0.0.1./", "127.0.0.1 is a loopback address"},
		{"numeric last label", strict, "http://hooks.example.123/", "ends in a number"},
		{"localhost", strict, "http://localhost/", "unless ALLOWED_TARGETS covers 127.0.0.1"},
		{"localhost, loopback not allowed", otherCIDR, "http://localhost:9000/", "ALLOWED_TARGETS"},
		{"localhost when loopback is allowed", loopbackOnly, "http://localhost:9000/hook", ""},
		{"localhost when IPv6 loopback is allowed", loopback6Only, "http://localhost:9000/hook", ""},
		{"localhost. when loopback is allowed", loopbackOnly, "http://LOCALHOST.:9000/hook", ""},
		{".localhost name when loopback is allowed", loopbackOnly, "http://api.localhost:9000/", ".localhost"},
		{"IP literal names the setting", strict, "http://10.1.2.3/", "unless ALLOWED_TARGETS covers it"},
		{"localhost trailing dot", strict, "http://localhost./", "localhost"},
		{"localhost upper case", strict, "http://LOCALHOST:8080/", "localhost"},
		{"localhost subdomain", strict, "http://api.localhost/", "localhost"},
		{"full-width localhost", strict, "http://ｌｏｃａｌｈｏｓｔ/", "localhost"},
		{"bad label", strict, "http://-bad-.example.com/", "not a valid host name"},

		{"allowed CIDR", allowing, "http://127.0.0.1:8080/", ""},
		{"allowed IPv6 CIDR", allowing, "http://[::1]:8080/", ""},
		{"allowed mapped form", allowing, "http://[::ffff:127.0.0.1]/", ""},
		{"allowed host name", allowing, "http://jenkins.internal:8080/job", ""},
		{"allowed host name, other case", allowing, "http://Jenkins.Internal./job", ""},
		{"allowed localhost", allowing, "http://localhost:8080/", ""},
		{"outside the allowed CIDR", allowing, "http://10.0.0.1/", "10.0.0.1 is a private"},
		{"number form of an allowed IP", allowing, "http://2130706433/", "write it as 127.0.0.1"},
		{"subdomain of allowed host", allowing, "http://x.localhost/", "localhost"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.s.ValidateURL(tc.url)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("ValidateURL(%q) = %v, want nil", tc.url, err)
				}
				return
			}
			var ie *InvalidURLError
			if !errors.As(err, &ie) || !errors.Is(err, ErrInvalidURL) {
				t.Fatalf("ValidateURL(%q) = %v, want an InvalidURLError", tc.url, err)
			}
			if !strings.Contains(ie.Reason, tc.wantErr) {
				t.Errorf("reason = %q, want it to contain %q", ie.Reason, tc.wantErr)
			}
			if strings.Contains(err.Error(), "pw@") {
				t.Errorf("error %q repeats the URL's password", err)
			}
		})
	}
}

func TestParseLegacyIPv4(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" = not an address
	}{
		{"127.0.0.1", "127.0.0.1"},
		{"127.1", "127.0.0.1"},
		{"127.0.1", "127.0.0.1"},
		{"2130706433", "127.0.0.1"},
		{"0177.0.0.1", "127.0.0.1"},
		{"0x7f.0.0.1", "127.0.0.1"},
		{"0X7F000001", "127.0.0.1"},
		{"169.254.43518", "169.254.169.254"},
		{"0", "0.0.0.0"},
		{"4294967295", "255.255.255.255"},
		{"4294967296", ""},
		{"256.0.0.1", ""},
		{"1.2.3.4.5", ""},
		{"08.0.0.1", ""},
		{"0x", ""},
		{"1..1", ""},
	}
	for _, tc := range tests {
		got, ok := parseLegacyIPv4(tc.in)
		want, _ := netip.ParseAddr(tc.want)
		if ok != (tc.want != "") || (ok && got != want) {
			t.Errorf("parseLegacyIPv4(%q) = %v, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
}
