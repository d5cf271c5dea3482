package sender

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"

	"code.dny.dev/ssrf"
	"golang.org/x/net/idna"
)

// ErrBlocked is wrapped by every error returned because SSRF protection
// refused to connect to a target.
var ErrBlocked = errors.New("blocked by SSRF protection")

// BlockedError says which address SSRF protection refused and why. It is
// returned (wrapped) by Send before connect(), so no packet was sent.
type BlockedError struct {
	Target string // the address refused, e.g. "127.0.0.1:8080"
	Reason string // for people, e.g. "127.0.0.1 is a loopback address"
}

// Error omits Target: the dialler's error around it already names it. It
// names the setting that allows an address, for operators testing locally.
func (e *BlockedError) Error() string {
	return "blocked by SSRF protection: " + e.Reason + " (ALLOWED_TARGETS can allow it)"
}

// Is makes errors.Is(err, ErrBlocked) true.
func (e *BlockedError) Is(target error) bool { return target == ErrBlocked }

// policy decides which addresses may be dialled. It is immutable after
// newPolicy (testDialHook aside, which tests set before the first Send).
type policy struct {
	allowedPrefixes []netip.Prefix
	allowedHosts    map[string]bool
	guard           *ssrf.Guardian

	// testDialHook, when set, runs on every address the policy lets through;
	// tests use it to make sure nothing but loopback is ever dialled.
	testDialHook func(netip.Addr) error
}

func newPolicy(targets []string) (*policy, error) {
	p := &policy{
		allowedHosts: map[string]bool{},
		// Any port: operators run receivers such as Jenkins on 8080. The
		// Guardian's own allow lists stay empty: AllowedTargets are handled
		// by allows so they also cover IPv4-mapped forms.
		guard: ssrf.New(ssrf.WithAnyPort()),
	}
	for _, raw := range targets {
		entry := strings.TrimSpace(raw)
		if entry == "" {
			continue
		}
		if strings.Contains(entry, "/") {
			pfx, err := netip.ParsePrefix(entry)
			if err != nil {
				return nil, fmt.Errorf("allowed target %q is not a valid CIDR (for example 10.0.0.0/8 or fd00::/8)", entry)
			}
			p.allowedPrefixes = append(p.allowedPrefixes, unmapPrefix(pfx.Masked()))
			continue
		}
		if ip, err := netip.ParseAddr(strings.Trim(entry, "[]")); err == nil {
			ip = ip.WithZone("").Unmap()
			p.allowedPrefixes = append(p.allowedPrefixes, netip.PrefixFrom(ip, ip.BitLen()))
			continue
		}
		name, err := asciiHost(entry)
		if err != nil || !validHostname(name) || endsInNumber(name) {
			return nil, fmt.Errorf("allowed target %q is neither a CIDR, an IP address nor a host name", entry)
		}
		p.allowedHosts[name] = true
	}
	return p, nil
}

// unmapPrefix turns ::ffff:a.b.c.d/n (n >= 96) into the IPv4 prefix it
// means, since addresses are unmapped before they are compared.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p
}

// hostAllowed reports whether host is listed in AllowedTargets by name.
func (p *policy) hostAllowed(host string) bool {
	return p.allowedHosts[normalizeHost(host)]
}

// loopbackAllowed reports whether AllowedTargets covers a loopback address
// localhost resolves to.
func (p *policy) loopbackAllowed() bool {
	return p.addrAllowed(netip.AddrFrom4([4]byte{127, 0, 0, 1})) || p.addrAllowed(netip.IPv6Loopback())
}

// addrAllowed reports whether an AllowedTargets CIDR covers ip.
func (p *policy) addrAllowed(ip netip.Addr) bool {
	ip = ip.WithZone("").Unmap()
	for _, pfx := range p.allowedPrefixes {
		if pfx.Contains(ip) {
			return true
		}
	}
	return false
}

// blockReason says why ip must not be dialled, or "" if it may be.
func (p *policy) blockReason(ip netip.Addr) string {
	// A zone never matches a prefix: drop it so AllowedTargets and the named
	// ranges apply (the library alone refuses any zoned address, citing the
	// wrong reason).
	ip = ip.WithZone("")
	if p.addrAllowed(ip) {
		return ""
	}
	if reason := describe(ip); reason != "" {
		return reason
	}
	// Backstop: whatever the library denies that the table above misses.
	if err := p.guard.SafeAddr(ip); err != nil {
		return fmt.Sprintf("%s is not a public address (%v)", ip, err)
	}
	return ""
}

type exemptHostKey struct{}

// prepareDial runs before name resolution on addr ("host:port", as the
// transport dials it). A host listed in AllowedTargets is marked in ctx for
// control. A host ending in a number ("2130706433", "0x7f.1", "127.1") is
// an IPv4 address to browsers and getaddrinfo but an invalid name to Go's
// resolver: dial the address it means, so control judges what any other
// client would reach whichever resolver is in use.
func (p *policy) prepareDial(ctx context.Context, addr string) (context.Context, string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ctx, addr, nil // let the dialer report it
	}
	if p.hostAllowed(host) {
		return context.WithValue(ctx, exemptHostKey{}, true), addr, nil
	}
	if _, err := netip.ParseAddr(host); err != nil && endsInNumber(host) {
		ip, ok := parseLegacyIPv4(host)
		if !ok {
			return ctx, addr, invalidURL("has host %q, which ends in a number and is not a valid host name", host)
		}
		return ctx, net.JoinHostPort(ip.String(), port), nil
	}
	return ctx, addr, nil
}

// control is the net.Dialer ControlContext hook: it runs on the resolved
// address after the socket is created and before connect().
func (p *policy) control(ctx context.Context, network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &BlockedError{Target: address, Reason: "not an IP address and port"}
	}
	if network != "tcp4" && network != "tcp6" {
		return &BlockedError{Target: address, Reason: network + " connections are not allowed"}
	}
	if exempt, _ := ctx.Value(exemptHostKey{}).(bool); !exempt {
		if reason := p.blockReason(ap.Addr()); reason != "" {
			return &BlockedError{Target: address, Reason: reason}
		}
	}
	if p.testDialHook != nil {
		return p.testDialHook(ap.Addr())
	}
	return nil
}

// describe names the non-public range ip belongs to, as a sentence, or
// returns "" for a public address.
func describe(ip netip.Addr) string {
	ip = ip.WithZone("")
	if ip.Is4In6() {
		inner := describe(ip.Unmap())
		if inner == "" {
			return fmt.Sprintf("%s is an IPv4-mapped IPv6 address", ip)
		}
		return fmt.Sprintf("%s is an IPv4-mapped IPv6 address (%s)", ip, inner)
	}
	for _, r := range deniedRanges {
		if r.prefix.Contains(ip) {
			return fmt.Sprintf("%s is %s", ip, r.what)
		}
	}
	if ip.Is6() && !ssrf.IPv6GlobalUnicast.Contains(ip) {
		return fmt.Sprintf("%s is outside the public IPv6 range %s", ip, ssrf.IPv6GlobalUnicast)
	}
	return ""
}

type namedRange struct {
	prefix netip.Prefix
	what   string
}

// deniedRanges covers everything code.dny.dev/ssrf denies (IANA special
// purpose registries) with a name a person understands; the first match
// names the address. Narrow entries come before the ranges holding them.
var deniedRanges = []namedRange{
	{netip.MustParsePrefix("169.254.169.254/32"), "a cloud metadata address"},
	{netip.MustParsePrefix("fd00:ec2::254/128"), "a cloud metadata address"},
	{netip.MustParsePrefix("100.100.100.200/32"), "a cloud metadata address"},
	{netip.MustParsePrefix("0.0.0.0/32"), "the unspecified address"},
	{netip.MustParsePrefix("255.255.255.255/32"), "the broadcast address"},
	{netip.MustParsePrefix("0.0.0.0/8"), `a "this network" address`},
	{netip.MustParsePrefix("127.0.0.0/8"), "a loopback address"},
	{netip.MustParsePrefix("10.0.0.0/8"), "a private (RFC 1918) address"},
	{netip.MustParsePrefix("172.16.0.0/12"), "a private (RFC 1918) address"},
	{netip.MustParsePrefix("192.168.0.0/16"), "a private (RFC 1918) address"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a carrier-grade NAT (shared) address"},
	{netip.MustParsePrefix("169.254.0.0/16"), "a link-local address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "an IETF protocol assignment address"},
	{netip.MustParsePrefix("192.0.2.0/24"), "a documentation address"},
	{netip.MustParsePrefix("198.51.100.0/24"), "a documentation address"},
	{netip.MustParsePrefix("203.0.113.0/24"), "a documentation address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address"},
	{netip.MustParsePrefix("192.88.99.0/24"), "a 6to4 relay anycast address"},
	{netip.MustParsePrefix("192.31.196.0/24"), "an AS112 DNS address"},
	{netip.MustParsePrefix("192.175.48.0/24"), "an AS112 DNS address"},
	{netip.MustParsePrefix("192.52.193.0/24"), "an AMT address"},
	{netip.MustParsePrefix("224.0.0.0/4"), "a multicast address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address"},

	{netip.MustParsePrefix("::/128"), "the unspecified address"},
	{netip.MustParsePrefix("::1/128"), "a loopback address"},
	{netip.MustParsePrefix("::/96"), "an IPv4-compatible IPv6 address"},
	{netip.MustParsePrefix("64:ff9b::/96"), "a NAT64 address"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a local-use NAT64 address"},
	{netip.MustParsePrefix("100::/64"), "a discard-only address"},
	{netip.MustParsePrefix("2001::/32"), "a Teredo address"},
	{netip.MustParsePrefix("2001::/23"), "an IETF protocol assignment address"},
	{netip.MustParsePrefix("2001:db8::/32"), "a documentation address"},
	{netip.MustParsePrefix("3fff::/20"), "a documentation address"},
	{netip.MustParsePrefix("2002::/16"), "a 6to4 address"},
	{netip.MustParsePrefix("2620:4f:8000::/48"), "an AS112 DNS address"},
	{netip.MustParsePrefix("fc00::/7"), "a unique-local (private) address"},
	{netip.MustParsePrefix("fe80::/10"), "a link-local address"},
	{netip.MustParsePrefix("fec0::/10"), "a site-local address"},
	{netip.MustParsePrefix("ff00::/8"), "a multicast address"},
}

// asciiHost maps a host name the way net/http does before dialling (IDNA
// for non-ASCII names, so "ｌｏｃａｌｈｏｓｔ" becomes "localhost") and
// normalizes it.
func asciiHost(host string) (string, error) {
	for i := 0; i < len(host); i++ {
		if host[i] >= 0x80 {
			a, err := idna.Lookup.ToASCII(host)
			if err != nil {
				return "", err
			}
			return normalizeHost(a), nil
		}
	}
	return normalizeHost(host), nil
}

// normalizeHost lower-cases host and strips one trailing dot.
func normalizeHost(host string) string {
	return strings.ToLower(strings.TrimSuffix(host, "."))
}
