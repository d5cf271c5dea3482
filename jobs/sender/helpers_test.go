package sender

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// newTestSender builds a Sender that can only ever reach loopback: host names
// resolve through a DNS server on loopback (a fresh one answering NXDOMAIN
// unless cfg.Resolver is set), and any non-loopback address the policy would
// let through is refused by the test hook before connect().
func newTestSender(t testing.TB, cfg Config) *Sender {
	t.Helper()
	if cfg.Resolver == nil {
		cfg.Resolver = startDNS(t, nil)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	s.policy.testDialHook = func(ip netip.Addr) error {
		if !ip.Unmap().IsLoopback() {
			return fmt.Errorf("test refused to dial non-loopback %s: the SSRF policy let it through", ip)
		}
		return nil
	}
	t.Cleanup(s.Close)
	return s
}

// startDNS runs a DNS server on 127.0.0.1 answering A and AAAA queries from
// records (name without trailing dot, lower case → addresses) and NXDOMAIN
// for any other name, and returns a resolver that only ever talks to it.
func startDNS(t testing.TB, records map[string][]string) *net.Resolver {
	t.Helper()
	table := map[string][]netip.Addr{}
	for name, addrs := range records {
		for _, a := range addrs {
			table[name] = append(table[name], netip.MustParseAddr(a))
		}
	}
	return startDNSFunc(t, func(name string) ([]netip.Addr, bool) {
		addrs, ok := table[name]
		return addrs, ok
	})
}

// startDNSFunc is startDNS with answers computed per query.
func startDNSFunc(t testing.TB, lookup func(name string) ([]netip.Addr, bool)) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen DNS: %v", err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if reply, err := dnsReply(buf[:n], lookup); err == nil {
				pc.WriteTo(reply, from)
			}
		}
	}()
	t.Cleanup(func() { pc.Close(); wg.Wait() })

	server := pc.LocalAddr().String()
	return &net.Resolver{
		PreferGo: true,
		// Ignore the nameserver from resolv.conf: queries go to loopback only.
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp4", server)
		},
	}
}

func dnsReply(query []byte, lookup func(string) ([]netip.Addr, bool)) ([]byte, error) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, err
	}
	q, err := p.Question()
	if err != nil {
		return nil, err
	}
	addrs, found := lookup(strings.ToLower(strings.TrimSuffix(q.Name.String(), ".")))
	rcode := dnsmessage.RCodeSuccess
	if !found {
		rcode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{
		ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired,
		RecursionAvailable: true, RCode: rcode,
	})
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(q); err != nil {
		return nil, err
	}
	if err := b.StartAnswers(); err != nil {
		return nil, err
	}
	rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET}
	for _, a := range addrs {
		switch {
		case q.Type == dnsmessage.TypeA && a.Is4():
			err = b.AResource(rh, dnsmessage.AResource{A: a.As4()})
		case q.Type == dnsmessage.TypeAAAA && a.Is6():
			err = b.AAAAResource(rh, dnsmessage.AAAAResource{AAAA: a.As16()})
		}
		if err != nil {
			return nil, err
		}
	}
	return b.Finish()
}

// received is one request as a receiver saw it.
type received struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// receiver is an httptest server on loopback that records what it gets.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []received
}

// newReceiver listens on network ("tcp4" → 127.0.0.1, "tcp6" → [::1]) and
// answers with handle after recording the request (nil answers 200 "ok").
func newReceiver(t testing.TB, network string, handle http.HandlerFunc) *receiver {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "tcp6" {
		addr = "[::1]:0"
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	rc := &receiver{}
	rc.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, received{r.Method, r.URL.Path, r.Header.Clone(), body})
		rc.mu.Unlock()
		if handle != nil {
			handle(w, r)
			return
		}
		io.WriteString(w, "ok")
	}))
	rc.Server.Listener.Close()
	rc.Server.Listener = ln
	rc.Start()
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.reqs...)
}

// port is the receiver's port as a string.
func (rc *receiver) port() string {
	_, p, _ := net.SplitHostPort(rc.Listener.Addr().String())
	return p
}

// only returns the single request the receiver got, failing otherwise.
func (rc *receiver) only(t testing.TB) received {
	t.Helper()
	reqs := rc.requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(reqs))
	}
	return reqs[0]
}

// asBlocked returns the BlockedError in err, failing the test unless err is
// one raised by the dialer (so before connect(): nothing was sent).
func asBlocked(t testing.TB, err error) *BlockedError {
	t.Helper()
	var be *BlockedError
	if !errors.As(err, &be) || !errors.Is(err, ErrBlocked) {
		t.Fatalf("error = %v, want a BlockedError", err)
	}
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "dial" {
		t.Fatalf("error = %v, want it raised while dialling", err)
	}
	return be
}
