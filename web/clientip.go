package web

import (
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// trustedProxyRanges parses TRUSTED_PROXIES: CIDRs, or single addresses
// taken as one-address ranges.
func trustedProxyRanges(entries []string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if !strings.Contains(e, "/") {
			ip := net.ParseIP(e)
			if ip == nil {
				return nil, fmt.Errorf("TRUSTED_PROXIES: %q is neither a CIDR nor an IP address", e)
			}
			bits := 128
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(e)
		if err != nil {
			return nil, fmt.Errorf("TRUSTED_PROXIES: %q is not a CIDR: %w", e, err)
		}
		out = append(out, n)
	}
	return out, nil
}

// clientIPExtractor decides what c.RealIP() answers, and so which address
// sign-in throttling and the sessions list see. Without TRUSTED_PROXIES it
// is the TCP peer: a header any client can send must not choose its own
// throttling bucket. With them, X-Forwarded-For is read back to the first
// address not in those ranges; echo's default trust of loopback, link-local
// and private peers is switched off, so only the configured ranges count.
func clientIPExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// hstsHeader: a year, the usual value for sites that are https only.
const hstsHeader = "max-age=31536000; includeSubDomains"

// strictTransport tells browsers to use https only, on every response
// (errors and refusals included), when the site's BASE_URL is https. It
// wraps the whole handler rather than running as echo middleware so that
// answers given before echo (cross-origin refusals) carry it too.
func strictTransport(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", hstsHeader)
		next.ServeHTTP(w, r)
	})
}
