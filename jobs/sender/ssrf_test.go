package sender

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"code.dny.dev/ssrf"
)

// hostileDNS is what the test resolver answers. Hosts that end in a number
// (2130706433, 0x7f.1, 127.1) need no entry: Send dials the IPv4 address
// they mean, as browsers and getaddrinfo do.
var hostileDNS = map[string][]string{
	"localhost":                   {"127.0.0.1"}, // "localhost." misses /etc/hosts
	"foo.localhost":               {"127.0.0.1"},
	"v6loop.test":                 {"::1"},
	"rebind.test":                 {"127.0.0.1"},
	"localtest.me":                {"127.0.0.1"},
	"xn--mnchen-3ya.test":         {"127.0.0.1"},
	"127.0.0.1.nip.io":            {"127.0.0.1"},
	"mixed.test":                  {"10.0.0.1", "127.0.0.1"},
	"private.test":                {"10.0.0.1"},
	"v6private.test":              {"fd00::1"},
	"metadata.google.internal":    {"169.254.169.254"},
	"metadata":                    {"169.254.169.254"},
	"instance-data":               {"169.254.169.254"},
	"instance-data.ec2.internal":  {"169.254.169.254"},
	"metadata.test":               {"169.254.169.254"},
	"v6metadata.test":             {"fd00:ec2::254"},
	"loop2.test":                  {"127.0.0.2"},
	"jenkins.internal":            {"127.0.0.1"},
	"other.internal":              {"127.0.0.1"},
	"jenkins.internal.evil.test":  {"127.0.0.1"},
	"metadata.google.internal.cc": {"169.254.169.254"},
}

// ssrfCase is one hostile target. {p4} and {p6} are the ports of the
// loopback receivers on 127.0.0.1 and [::1].
type ssrfCase struct {
	url    string
	reason string // in BlockedError.Reason; "a|b" accepts either
	// reaches is the receiver ("tcp4" or "tcp6") that gets the request once
	// AllowedTargets covers loopback; "" means it stays blocked.
	reaches string
}

var ssrfGroups = []struct {
	name  string
	cases []ssrfCase
}{
	{"loopback IPv4 in every spelling", []ssrfCase{
		{"http://127.0.0.1:{p4}/", "loopback", "tcp4"},
		{"http://127.1:{p4}/", "loopback", "tcp4"},
		{"http://127.0.1:{p4}/", "loopback", "tcp4"},
		{"http://2130706433:{p4}/", "loopback", "tcp4"},
		{"http://0177.0.0.1:{p4}/", "loopback", "tcp4"},
		{"http://0177.0.0.01:{p4}/", "loopback", "tcp4"},
		{"http://017700000001:{p4}/", "loopback", "tcp4"},
		{"http://0x7f.0.0.1:{p4}/", "loopback", "tcp4"},
		{"http://0x7f000001:{p4}/", "loopback", "tcp4"},
		{"http://0x7F.0x0.0x0.0x1:{p4}/", "loopback", "tcp4"},
		{"http://0x7f.1:{p4}/", "loopback", "tcp4"},
		{"http://127.000.000.001:{p4}/", "loopback", "tcp4"},
		{"http://127.0.0.1.:{p4}/", "loopback", "tcp4"},
		{"http://[::ffff:127.0.0.1]:{p4}/", "loopback", "tcp4"},
		{"http://[::ffff:7f00:1]:{p4}/", "loopback", "tcp4"},
		{"http://[0:0:0:0:0:ffff:7f00:1]:{p4}/", "loopback", "tcp4"},
	}},
	{"localhost names", []ssrfCase{
		{"http://localhost:{p4}/", "loopback", "tcp4"},
		{"http://localhost.:{p4}/", "loopback", "tcp4"},
		{"http://LOCALHOST:{p4}/", "loopback", "tcp4"},
		{"http://ｌｏｃａｌｈｏｓｔ:{p4}/", "loopback", "tcp4"},
		{"http://foo.localhost:{p4}/", "loopback", "tcp4"},
	}},
	{"user info", []ssrfCase{
		{"http://user@127.0.0.1:{p4}/", "loopback", "tcp4"},
		{"http://allowed.example@127.0.0.1:{p4}/", "loopback", "tcp4"},
		{"http://user:secret@127.0.0.1:{p4}/", "loopback", "tcp4"},
		{"http://allowed.example:80@10.0.0.1/", "private", ""},
	}},
	{"loopback IPv6", []ssrfCase{
		{"http://[::1]:{p6}/", "loopback", "tcp6"},
		{"http://[0:0:0:0:0:0:0:1]:{p6}/", "loopback", "tcp6"},
		{"http://[0000::0001]:{p6}/", "loopback", "tcp6"},
		{"http://v6loop.test:{p6}/", "loopback", "tcp6"},
	}},
	{"host names resolving to loopback (DNS rebinding)", []ssrfCase{
		{"http://rebind.test:{p4}/", "loopback", "tcp4"},
		{"http://REBIND.test.:{p4}/", "loopback", "tcp4"},
		{"http://localtest.me:{p4}/", "loopback", "tcp4"},
		{"http://xn--mnchen-3ya.test:{p4}/", "loopback", "tcp4"},
		{"http://münchen.test:{p4}/", "loopback", "tcp4"},
		{"http://127.0.0.1.nip.io:{p4}/", "loopback", "tcp4"},
		{"http://mixed.test:{p4}/", "private|loopback", "tcp4"},
	}},
	{"unspecified", []ssrfCase{
		{"http://0.0.0.0:{p4}/", "unspecified", ""},
		{"http://0:{p4}/", "unspecified", ""},
		{"http://0x0:{p4}/", "unspecified", ""},
		{"http://[::]:{p6}/", "unspecified", ""},
		{"http://[0:0:0:0:0:0:0:0]:{p6}/", "unspecified", ""},
		{"http://[::ffff:0.0.0.0]:{p4}/", "unspecified", ""},
		{"http://0.1.2.3/", "this network", ""},
	}},
	{"private IPv4 (RFC 1918)", []ssrfCase{
		{"http://10.0.0.1/", "private", ""},
		{"http://10.0.0.1:22/", "private", ""},
		{"http://10.255.255.254/", "private", ""},
		{"http://172.16.0.1/", "private", ""},
		{"http://172.17.0.1:2375/", "private", ""},
		{"http://172.31.255.254/", "private", ""},
		{"http://192.168.0.1/", "private", ""},
		{"http://192.168.1.1:6379/", "private", ""},
		{"http://192.168.255.254:8080/", "private", ""},
		{"http://167772161/", "private", ""},
		{"http://012.0.0.1/", "private", ""},
		{"http://10.1/", "private", ""},
		{"http://0xc0a80101/", "private", ""},
		{"http://3232235777/", "private", ""},
		{"http://private.test/", "private", ""},
	}},
	{"carrier-grade NAT 100.64/10", []ssrfCase{
		{"http://100.64.0.1/", "carrier-grade NAT", ""},
		{"http://100.127.255.254/", "carrier-grade NAT", ""},
		{"http://[::ffff:100.64.0.1]/", "carrier-grade NAT", ""},
	}},
	{"link-local IPv4", []ssrfCase{
		{"http://169.254.0.1/", "link-local", ""},
		{"http://169.254.170.2/v2/metadata", "link-local", ""},
		{"http://169.254.169.253/", "link-local", ""},
	}},
	{"cloud metadata", []ssrfCase{
		{"http://169.254.169.254/latest/meta-data/", "metadata", ""},
		{"http://169.254.169.254:8080/", "metadata", ""},
		{"http://2852039166/", "metadata", ""},
		{"http://0xa9fea9fe/", "metadata", ""},
		{"http://0251.0376.0251.0376/", "metadata", ""},
		{"http://169.254.43518/", "metadata", ""},
		{"http://[::ffff:169.254.169.254]/", "metadata", ""},
		{"http://[::ffff:a9fe:a9fe]/", "metadata", ""},
		{"http://[fd00:ec2::254]/", "metadata", ""},
		{"http://100.100.100.200/", "metadata", ""},
		{"http://metadata.google.internal/computeMetadata/v1/", "metadata", ""},
		{"http://metadata.google.internal./", "metadata", ""},
		{"http://METADATA.GOOGLE.INTERNAL/", "metadata", ""},
		{"http://metadata.google.internal.cc/", "metadata", ""},
		{"http://metadata/", "metadata", ""},
		{"http://instance-data/latest/", "metadata", ""},
		{"http://instance-data.ec2.internal/", "metadata", ""},
		{"http://metadata.test/", "metadata", ""},
		{"http://v6metadata.test/", "metadata", ""},
	}},
	{"other special-purpose IPv4", []ssrfCase{
		{"http://192.0.0.1/", "IETF protocol", ""},
		{"http://192.0.0.170/", "IETF protocol", ""},
		{"http://192.0.2.1/", "documentation", ""},
		{"http://198.51.100.1/", "documentation", ""},
		{"http://203.0.113.1/", "documentation", ""},
		{"http://198.18.0.1/", "benchmarking", ""},
		{"http://198.19.255.254/", "benchmarking", ""},
		{"http://192.88.99.1/", "6to4 relay", ""},
		{"http://192.31.196.1/", "AS112", ""},
		{"http://192.175.48.1/", "AS112", ""},
		{"http://192.52.193.1/", "AMT", ""},
		{"http://224.0.0.1/", "multicast", ""},
		{"http://239.255.255.250/", "multicast", ""},
		{"http://240.0.0.1/", "reserved", ""},
		{"http://255.255.255.255/", "broadcast", ""},
		{"http://4294967295/", "broadcast", ""},
	}},
	{"non-public IPv6", []ssrfCase{
		{"http://[fe80::1]/", "link-local", ""},
		{"http://[fe80::1%25eth0]/", "link-local", ""},
		{"http://[fe80::1%25lo]:{p6}/", "link-local", ""},
		{"http://[fe80::fc:ff:fe00:1]/", "link-local", ""},
		{"http://[fc00::1]/", "unique-local", ""},
		{"http://[fd00::1]/", "unique-local", ""},
		{"http://[fd00::2]/", "unique-local", ""},
		{"http://[fd12:3456:789a::1]/", "unique-local", ""},
		{"http://v6private.test/", "unique-local", ""},
		{"http://[ff02::1]/", "multicast", ""},
		{"http://[ff05::1:3]/", "multicast", ""},
		{"http://[ff0e::1]/", "multicast", ""},
		{"http://[fec0::1]/", "site-local", ""},
		{"http://[100::1]/", "discard-only", ""},
		{"http://[::127.0.0.1]/", "IPv4-compatible", ""},
		{"http://[::a9fe:a9fe]/", "IPv4-compatible", ""},
		{"http://[5f00::1]/", "outside the public IPv6 range", ""},
	}},
	{"IPv4-mapped IPv6 of private IPv4", []ssrfCase{
		{"http://[::ffff:10.0.0.1]/", "private", ""},
		{"http://[::ffff:c0a8:101]/", "private", ""},
		{"http://[::ffff:ac10:1]/", "private", ""},
	}},
	{"NAT64 64:ff9b::/96", []ssrfCase{
		{"http://[64:ff9b::7f00:1]:{p6}/", "NAT64", ""},
		{"http://[64:ff9b::127.0.0.1]:{p6}/", "NAT64", ""},
		{"http://[64:ff9b::a9fe:a9fe]/", "NAT64", ""},
		{"http://[64:ff9b::10.0.0.1]/", "NAT64", ""},
		{"http://[64:ff9b:1::a00:1]/", "NAT64", ""},
	}},
	{"6to4 2002::/16", []ssrfCase{
		{"http://[2002:7f00:1::]:{p6}/", "6to4", ""},
		{"http://[2002:7f00:0001::1]:{p6}/", "6to4", ""},
		{"http://[2002:a9fe:a9fe::]/", "6to4", ""},
		{"http://[2002:c0a8:101::1]/", "6to4", ""},
		{"http://[2002:a00:1::1]/", "6to4", ""},
	}},
	{"Teredo, documentation and other special IPv6", []ssrfCase{
		{"http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "Teredo", ""},
		{"http://[2001::1]/", "Teredo", ""},
		{"http://[2001:2::1]/", "IETF protocol", ""},
		{"http://[2001:db8::1]/", "documentation", ""},
		{"http://[3fff::1]/", "documentation", ""},
		{"http://[2620:4f:8000::1]/", "AS112", ""},
	}},
	// Zones are dropped before the ranges are checked, so each is named.
	{"zone on a global-range address", []ssrfCase{
		{"http://[2001:db8::1%25eth0]/", "documentation", ""},
		{"http://[2002:7f00:1::%25lo]/", "6to4", ""},
		{"http://[64:ff9b::7f00:1%25lo]/", "NAT64", ""},
	}},
}

func expandPorts(raw string, v4, v6 *receiver) string {
	return strings.NewReplacer("{p4}", v4.port(), "{p6}", v6.port()).Replace(raw)
}

func reasonMatches(reason, want string) bool {
	for _, w := range strings.Split(want, "|") {
		if strings.Contains(reason, w) {
			return true
		}
	}
	return false
}

func subtestName(rawURL string) string {
	return strings.NewReplacer("http://", "", "/", "_").Replace(rawURL)
}

// TestDialRefusesHostileTargets sends to every hostile target with the
// save-time URL rules switched off, so only the dial-time check stands in
// the way; then again with loopback allowed, where loopback targets arrive
// and everything else is still refused.
func TestDialRefusesHostileTargets(t *testing.T) {
	v4 := newReceiver(t, "tcp4", nil)
	v6 := newReceiver(t, "tcp6", nil)
	resolver := startDNS(t, hostileDNS)

	total := 0
	for _, g := range ssrfGroups {
		total += len(g.cases)
	}
	if total < 100 {
		t.Fatalf("only %d hostile targets, want at least 100", total)
	}

	passes := []struct {
		name    string
		allowed []string
	}{
		{"default", []string{"allowed.example"}},
		{"loopback allowed", []string{"127.0.0.0/8", "::1/128", "allowed.example"}},
	}
	for _, pass := range passes {
		s := newTestSender(t, Config{AllowedTargets: pass.allowed, Resolver: resolver})
		s.skipHostRules = true
		loopbackAllowed := len(pass.allowed) > 1
		for _, g := range ssrfGroups {
			for _, tc := range g.cases {
				t.Run(pass.name+"/"+g.name+"/"+subtestName(tc.url), func(t *testing.T) {
					before4, before6 := len(v4.requests()), len(v6.requests())
					_, err := s.Send(context.Background(), Request{URL: expandPorts(tc.url, v4, v6), Body: []byte(`{}`)})
					got4, got6 := len(v4.requests())-before4, len(v6.requests())-before6

					if loopbackAllowed && tc.reaches != "" {
						if err != nil {
							t.Fatalf("Send: %v, want the request to arrive", err)
						}
						want4, want6 := 0, 0
						if tc.reaches == "tcp4" {
							want4 = 1
						} else {
							want6 = 1
						}
						if got4 != want4 || got6 != want6 {
							t.Fatalf("127.0.0.1 got %d and [::1] got %d requests, want %d and %d", got4, got6, want4, want6)
						}
						return
					}
					be := asBlocked(t, err)
					if !reasonMatches(be.Reason, tc.reason) {
						t.Errorf("reason = %q, want it to mention %q", be.Reason, tc.reason)
					}
					if _, err := netip.ParseAddrPort(be.Target); err != nil {
						t.Errorf("target %q is not the resolved address and port", be.Target)
					}
					if got4+got6 != 0 {
						t.Errorf("receivers got %d requests, want none", got4+got6)
					}
				})
			}
		}
	}
}

// TestSendRefusesNonHTTPSchemes holds even with the save-time host rules off.
func TestSendRefusesNonHTTPSchemes(t *testing.T) {
	v4 := newReceiver(t, "tcp4", nil)
	s := newTestSender(t, Config{AllowedTargets: []string{"127.0.0.0/8"}})
	s.skipHostRules = true
	for _, raw := range []string{
		"file:///etc/passwd",
		"gopher://127.0.0.1:{p4}/_POST%20/",
		"ftp://127.0.0.1:{p4}/",
		"javascript:alert(1)",
		"data:text/plain,hello",
		"dict://127.0.0.1:{p4}/info",
		"ldap://127.0.0.1:{p4}/",
		"ws://127.0.0.1:{p4}/",
		"//127.0.0.1:{p4}/",
		"http:127.0.0.1",
	} {
		t.Run(raw, func(t *testing.T) {
			_, err := s.Send(context.Background(), Request{URL: strings.ReplaceAll(raw, "{p4}", v4.port())})
			var ie *InvalidURLError
			if !errors.As(err, &ie) || !errors.Is(err, ErrInvalidURL) {
				t.Fatalf("error = %v, want an InvalidURLError", err)
			}
			if !strings.Contains(ie.Reason, "http") {
				t.Errorf("reason %q does not say what to use instead", ie.Reason)
			}
			if n := len(v4.requests()); n != 0 {
				t.Errorf("receiver got %d requests, want none", n)
			}
		})
	}
}

// TestRedirectToBlockedTargetRefusedAtDial follows redirects from an allowed
// receiver on 127.0.0.1 to targets AllowedTargets does not cover.
func TestRedirectToBlockedTargetRefusedAtDial(t *testing.T) {
	v6 := newReceiver(t, "tcp6", nil)
	v4 := newReceiver(t, "tcp4", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), statusFromPath(r.URL.Path))
	})
	s := newTestSender(t, Config{AllowedTargets: []string{"127.0.0.1/32"}, Resolver: startDNS(t, hostileDNS)})
	s.skipHostRules = true

	targets := []struct{ url, reason string }{
		{"http://127.0.0.2:{p4}/", "loopback"},
		{"http://[::1]:{p6}/", "loopback"},
		{"http://10.0.0.1/", "private"},
		{"http://169.254.169.254/latest/meta-data/", "metadata"},
		{"http://loop2.test:{p4}/", "loopback"},
		{"http://metadata.google.internal/", "metadata"},
	}
	for _, code := range []string{"301", "302", "307", "308"} {
		for _, target := range targets {
			t.Run(code+"/"+subtestName(target.url), func(t *testing.T) {
				before := len(v4.requests())
				first := "http://127.0.0.1:" + v4.port() + "/" + code + "?to=" + url.QueryEscape(expandPorts(target.url, v4, v6))
				_, err := s.Send(context.Background(), Request{URL: first, Body: []byte(`{"a":1}`)})
				be := asBlocked(t, err)
				if !strings.Contains(be.Reason, target.reason) {
					t.Errorf("reason = %q, want it to mention %q", be.Reason, target.reason)
				}
				if n := len(v4.requests()) - before; n != 1 {
					t.Errorf("allowed receiver got %d requests, want 1 (the first hop)", n)
				}
				if n := len(v6.requests()); n != 0 {
					t.Errorf("[::1] got %d requests, want none", n)
				}
			})
		}
	}
}

func statusFromPath(path string) int {
	switch strings.Trim(path, "/") {
	case "301":
		return http.StatusMovedPermanently
	case "307":
		return http.StatusTemporaryRedirect
	case "308":
		return http.StatusPermanentRedirect
	default:
		return http.StatusFound
	}
}

// TestRedirectHopsGetTheFirstHopURLRules: a hop to another scheme, or (with
// the save-time rules on) to an IP literal, is refused before any dial.
func TestRedirectHopsGetTheFirstHopURLRules(t *testing.T) {
	tests := []struct {
		name      string
		to        string
		hostRules bool
		reason    string
	}{
		{"file scheme", "file:///etc/passwd", false, "http"},
		{"gopher scheme", "gopher://127.0.0.1:70/_x", false, "http"},
		{"ftp scheme", "ftp://127.0.0.1/", false, "http"},
		{"IP literal with save-time rules on", "http://127.0.0.2/", true, "not an IP address"},
		{"user info with save-time rules on", "http://user@jenkins.internal/", true, "user name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v4 := newReceiver(t, "tcp4", func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, tc.to, http.StatusTemporaryRedirect)
			})
			s := newTestSender(t, Config{AllowedTargets: []string{"127.0.0.1/32"}})
			s.skipHostRules = !tc.hostRules
			_, err := s.Send(context.Background(), Request{URL: "http://127.0.0.1:" + v4.port() + "/"})
			var ie *InvalidURLError
			if !errors.As(err, &ie) {
				t.Fatalf("error = %v, want an InvalidURLError", err)
			}
			if !strings.Contains(ie.Reason, tc.reason) {
				t.Errorf("reason = %q, want it to mention %q", ie.Reason, tc.reason)
			}
			if n := len(v4.requests()); n != 1 {
				t.Errorf("receiver got %d requests, want 1", n)
			}
		})
	}
}

// TestAllowedHostnameExemptsOnlyThatHost: a host name in AllowedTargets
// exempts connections to exactly that host, whatever it resolves to.
func TestAllowedHostnameExemptsOnlyThatHost(t *testing.T) {
	v4 := newReceiver(t, "tcp4", nil)
	s := newTestSender(t, Config{AllowedTargets: []string{"Jenkins.Internal."}, Resolver: startDNS(t, hostileDNS)})
	s.skipHostRules = true
	tests := []struct {
		host    string
		arrives bool
	}{
		{"jenkins.internal", true},
		{"JENKINS.INTERNAL.", true},
		{"other.internal", false},
		{"jenkins.internal.evil.test", false},
		{"127.0.0.1", false},
	}
	for _, tc := range tests {
		t.Run(tc.host, func(t *testing.T) {
			before := len(v4.requests())
			_, err := s.Send(context.Background(), Request{URL: "http://" + tc.host + ":" + v4.port() + "/"})
			got := len(v4.requests()) - before
			if tc.arrives {
				if err != nil || got != 1 {
					t.Fatalf("Send: err %v, %d requests arrived; want nil and 1", err, got)
				}
				return
			}
			if be := asBlocked(t, err); !strings.Contains(be.Reason, "loopback") {
				t.Errorf("reason = %q, want loopback", be.Reason)
			}
			if got != 0 {
				t.Errorf("%d requests arrived, want none", got)
			}
		})
	}
}

// TestDNSRebindingCheckedOnEveryConnection: the name resolves to an allowed
// address first and to a blocked one on the next connection.
func TestDNSRebindingCheckedOnEveryConnection(t *testing.T) {
	v4 := newReceiver(t, "tcp4", nil)
	var aQueries atomic.Int32
	resolver := startDNSFunc(t, func(name string) ([]netip.Addr, bool) {
		if name != "flip.test" {
			return nil, false
		}
		// Called for A and AAAA alike; only A answers matter.
		if aQueries.Add(1) <= 2 {
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, true
		}
		return []netip.Addr{netip.MustParseAddr("127.0.0.2")}, true
	})
	s := newTestSender(t, Config{AllowedTargets: []string{"127.0.0.1/32"}, Resolver: resolver})
	target := "http://flip.test:" + v4.port() + "/"

	if _, err := s.Send(context.Background(), Request{URL: target}); err != nil {
		t.Fatalf("first Send: %v", err)
	}
	s.Close() // force a new connection, hence a new lookup
	_, err := s.Send(context.Background(), Request{URL: target})
	if be := asBlocked(t, err); !strings.Contains(be.Reason, "127.0.0.2 is a loopback address") {
		t.Errorf("reason = %q", be.Reason)
	}
	if n := len(v4.requests()); n != 1 {
		t.Errorf("receiver got %d requests, want 1", n)
	}
}

// TestPolicyNamesEveryRangeTheLibraryDenies keeps deniedRanges a superset of
// code.dny.dev/ssrf's lists, so every refusal has a reason a person reads.
func TestPolicyNamesEveryRangeTheLibraryDenies(t *testing.T) {
	p, err := newPolicy(nil)
	if err != nil {
		t.Fatal(err)
	}
	var prefixes []netip.Prefix
	prefixes = append(prefixes, ssrf.IPv4DeniedPrefixes...)
	prefixes = append(prefixes, ssrf.IPv6DeniedPrefixes...)
	prefixes = append(prefixes, ssrf.IPv6NAT64Prefix)
	for _, pfx := range prefixes {
		for _, ip := range []netip.Addr{pfx.Addr(), lastAddr(pfx)} {
			if describe(ip) == "" {
				t.Errorf("%s (in %s) has no reason in deniedRanges", ip, pfx)
			}
			if p.blockReason(ip) == "" {
				t.Errorf("%s (in %s) is not blocked", ip, pfx)
			}
		}
	}
	for _, public := range []string{"8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001::200e"} {
		if r := p.blockReason(netip.MustParseAddr(public)); r != "" {
			t.Errorf("public %s blocked: %s", public, r)
		}
	}
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func TestNewRejectsBadAllowedTargets(t *testing.T) {
	for _, entry := range []string{"10.0.0.0/33", "not a host", "10.0.0.0/8,", "1.2.3", "-bad.example", "jenkins/internal", "0x7f.1"} {
		t.Run(entry, func(t *testing.T) {
			_, err := New(Config{AllowedTargets: []string{"127.0.0.0/8", entry}})
			if err == nil || !strings.Contains(err.Error(), entry) {
				t.Fatalf("error = %v, want one naming %q", err, entry)
			}
		})
	}
}

func TestAllowedTargetsForms(t *testing.T) {
	p, err := newPolicy([]string{" 10.0.0.0/8 ", "", "::1/128", "192.168.1.5", "[fd00::7]", "::ffff:172.16.0.0/116", "Jenkins.Internal.", "ｊｅｎｋｉｎｓ２.internal"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		addr    string
		allowed bool
	}{
		{"10.1.2.3", true},
		{"::ffff:10.1.2.3", true},
		{"100.64.0.1", false},
		{"::1", true},
		{"127.0.0.1", false},
		{"192.168.1.5", true},
		{"192.168.1.6", false},
		{"fd00::7", true},
		{"172.16.5.5", true},
		{"172.17.0.1", false},
	}
	for _, tc := range tests {
		if got := p.blockReason(netip.MustParseAddr(tc.addr)) == ""; got != tc.allowed {
			t.Errorf("%s allowed = %v, want %v", tc.addr, got, tc.allowed)
		}
	}
	for _, host := range []string{"jenkins.internal", "JENKINS.internal.", "jenkins2.internal"} {
		if !p.hostAllowed(host) {
			t.Errorf("host %q not allowed", host)
		}
	}
	if p.hostAllowed("ci.jenkins.internal") {
		t.Error("a subdomain of an allowed host is allowed")
	}
}

// TestLocalhostDeliversWhenLoopbackIsAllowed is the local testing path: with
// ALLOWED_TARGETS=127.0.0.1/32, http://localhost:PORT/ passes the save-time
// rules and the request arrives; without it, nothing is sent and the error
// names the setting.
func TestLocalhostDeliversWhenLoopbackIsAllowed(t *testing.T) {
	v4 := newReceiver(t, "tcp4", nil)
	target := "http://localhost:" + v4.port() + "/hook"

	allowing := newTestSender(t, Config{AllowedTargets: []string{"127.0.0.1/32"}})
	if _, err := allowing.Send(context.Background(), Request{URL: target, Body: []byte(`{}`)}); err != nil {
		t.Fatalf("Send to localhost with loopback allowed: %v", err)
	}
	if n := len(v4.requests()); n != 1 {
		t.Fatalf("%d requests arrived, want 1", n)
	}

	strict := newTestSender(t, Config{})
	_, err := strict.Send(context.Background(), Request{URL: target, Body: []byte(`{}`)})
	if err == nil || !strings.Contains(err.Error(), "ALLOWED_TARGETS") {
		t.Fatalf("Send to localhost by default: %v, want an error naming ALLOWED_TARGETS", err)
	}
	if n := len(v4.requests()); n != 1 {
		t.Fatalf("%d requests arrived after the refused send, want still 1", n)
	}
}
