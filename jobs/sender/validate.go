package sender

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// ErrInvalidURL is wrapped by every error about a webhook URL that cannot be
// used, from ValidateURL and from Send.
var ErrInvalidURL = errors.New("invalid webhook URL")

// InvalidURLError explains why a webhook URL cannot be used. Reason is safe
// to show on the form and never repeats the URL (which may hold a token).
type InvalidURLError struct {
	Reason string // e.g. "must start with http:// or https://"
}

func (e *InvalidURLError) Error() string { return "webhook URL " + e.Reason }

// Is makes errors.Is(err, ErrInvalidURL) true.
func (e *InvalidURLError) Is(target error) bool { return target == ErrInvalidURL }

func invalidURL(format string, args ...any) error {
	return &InvalidURLError{Reason: fmt.Sprintf(format, args...)}
}

// ValidateURL is the save-time check of DESIGN.md §6: http or https, no user
// name or password, and a host name rather than an IP address or localhost,
// unless AllowedTargets covers it. Passing it does not make a URL safe to
// dial; Send checks every resolved address again.
func (s *Sender) ValidateURL(raw string) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return invalidURL("is not a valid URL")
	}
	return s.validate(u)
}

func (s *Sender) validate(u *url.URL) error {
	if err := checkScheme(u); err != nil {
		return err
	}
	if u.User != nil {
		return invalidURL("must not contain a user name or password; use the webhook's access token instead")
	}
	if u.Host == "" || u.Hostname() == "" {
		return invalidURL("needs a host name, for example https://hooks.example.com/path")
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return invalidURL("has port %q; use a port between 1 and 65535", port)
		}
	}
	if ip, err := netip.ParseAddr(u.Hostname()); err == nil {
		return s.checkIPLiteral(ip)
	}
	host, err := asciiHost(u.Hostname())
	if err != nil {
		return invalidURL("has a host name that is not valid")
	}
	if s.policy.hostAllowed(host) {
		return nil
	}
	// IDNA maps full-width digits and dots, so check for an IP again.
	if ip, err := netip.ParseAddr(host); err == nil {
		return s.checkIPLiteral(ip)
	}
	if endsInNumber(host) {
		// Browsers and getaddrinfo read these as IPv4: 2130706433, 0x7f.1, 127.1.
		if ip, ok := parseLegacyIPv4(host); ok {
			if s.policy.addrAllowed(ip) {
				return invalidURL("has host %q, which is the IP address %s written another way; write it as %s", host, ip, ip)
			}
			return invalidURL("has host %q, which is the IP address %s written another way; use a host name", host, ip)
		}
		return invalidURL("has host %q, which ends in a number and is not a valid host name", host)
	}
	if host == "localhost" {
		// A receiver on the same machine while trying things out: allowed
		// when the operator has allowed loopback; Send still checks every
		// address localhost resolves to.
		if s.policy.loopbackAllowed() {
			return nil
		}
		return invalidURL("must not point at localhost unless ALLOWED_TARGETS covers 127.0.0.1 (for example ALLOWED_TARGETS=127.0.0.1/32 on a machine you test on); otherwise use the receiver's public host name")
	}
	if strings.HasSuffix(host, ".localhost") {
		return invalidURL("must not point at a .localhost name; use the receiver's public host name, or localhost with ALLOWED_TARGETS covering 127.0.0.1")
	}
	if !validHostname(host) {
		return invalidURL("has host %q, which is not a valid host name", host)
	}
	return nil
}

func (s *Sender) checkIPLiteral(ip netip.Addr) error {
	if s.policy.addrAllowed(ip) {
		return nil
	}
	if reason := describe(ip); reason != "" {
		return invalidURL("must use a host name, not an IP address (%s), unless ALLOWED_TARGETS covers it", reason)
	}
	return invalidURL("must use a host name, not an IP address, unless ALLOWED_TARGETS covers it")
}

func checkScheme(u *url.URL) error {
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if u.Opaque != "" {
			return invalidURL("must look like http://host/path")
		}
		return nil
	case "":
		return invalidURL("must start with http:// or https://")
	default:
		return invalidURL("must start with http:// or https://, not %s:", strings.ToLower(u.Scheme))
	}
}

// validHostname accepts LDH labels (plus '_', which DNS allows) of 1 to 63
// characters, 253 characters in all; host is already lower case ASCII.
func validHostname(host string) bool {
	if host == "" || len(host) > 253 {
		return false
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// endsInNumber is the WHATWG URL rule: a host whose last label is decimal or
// 0x-hex is an IPv4 address, never a name (no top-level domain is numeric).
func endsInNumber(host string) bool {
	labels := strings.Split(strings.TrimSuffix(host, "."), ".")
	last := labels[len(labels)-1]
	if last == "" {
		return false
	}
	if allIn(last, "0123456789") {
		return true
	}
	return len(last) >= 2 && (last[:2] == "0x" || last[:2] == "0X") && allIn(last[2:], "0123456789abcdefABCDEF")
}

// parseLegacyIPv4 reads host as inet_aton(3) does: one to four parts, each
// decimal, octal (leading 0) or hex (0x), the last filling the
// remaining bytes.
func parseLegacyIPv4(host string) (netip.Addr, bool) {
	parts := strings.Split(strings.TrimSuffix(host, "."), ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	var v uint64
	for i, part := range parts {
		n, ok := parseLegacyIPv4Part(part)
		if !ok {
			return netip.Addr{}, false
		}
		if i < len(parts)-1 {
			if n > 255 {
				return netip.Addr{}, false
			}
			v |= n << (8 * (3 - i))
			continue
		}
		if n >= 1<<(8*(4-i)) {
			return netip.Addr{}, false
		}
		v |= n
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

func parseLegacyIPv4Part(s string) (uint64, bool) {
	base := 10
	switch {
	case len(s) >= 2 && (s[:2] == "0x" || s[:2] == "0X"):
		base, s = 16, s[2:]
	case len(s) >= 2 && s[0] == '0':
		base, s = 8, s[1:]
	}
	if s == "" {
		return 0, false
	}
	n, err := strconv.ParseUint(s, base, 32)
	return n, err == nil
}

func allIn(s, set string) bool {
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune(set, rune(s[i])) {
			return false
		}
	}
	return true
}
