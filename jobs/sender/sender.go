// Package sender is the single HTTP client through which every webhook is sent:
// deliveries run by the job runner and the Test webhook panel alike.
//
// It signs the body (X-Wandb-Signature and Standard Webhooks headers), caps
// the response, follows a few redirects, and refuses non-public addresses at
// dial time (see ssrf.go), so a URL that passed ValidateURL when it was saved
// still cannot reach a private address through DNS rebinding or a redirect.
package sender

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultConnectTimeout   = 5 * time.Second
	DefaultTimeout          = 15 * time.Second
	DefaultMaxResponseBytes = 64 << 10
	DefaultMaxRedirects     = 3
)

// UserAgent is sent with every webhook.
const UserAgent = "Automations-Webhook/1"

// ErrTooManyRedirects is wrapped by Send when the endpoint redirected more
// than Config.MaxRedirects times.
var ErrTooManyRedirects = errors.New("too many redirects")

// Config configures a Sender. Zero fields take the defaults above.
type Config struct {
	// AllowedTargets are exempt from SSRF blocking (ALLOWED_TARGETS): CIDRs
	// such as "10.0.0.0/8" or "::1/128", single IP addresses, and host names
	// such as "jenkins.internal" (exact match, case-insensitive).
	AllowedTargets []string
	// ConnectTimeout bounds each TCP connect and TLS handshake.
	ConnectTimeout time.Duration
	// Timeout bounds one attempt from dial to the last byte of the response.
	Timeout time.Duration
	// MaxResponseBytes caps how much of the response body is read.
	MaxResponseBytes int64
	// MaxRedirects is how many redirects are followed; a negative value
	// follows none and returns the 3xx response itself.
	MaxRedirects int
	// Resolver, if set, resolves host names (tests point it at a DNS server
	// they run on loopback). Nil uses net.DefaultResolver.
	Resolver *net.Resolver
}

// Request is one webhook attempt.
type Request struct {
	URL  string
	Body []byte // sent exactly as given
	// AccessToken is sent as "Authorization: Bearer <token>"; "" sends none.
	AccessToken string
	// SigningSecret signs the body (X-Wandb-Signature, webhook-signature);
	// "" sends no signatures.
	SigningSecret string
	// PreviousSigningSecret, during a signing secret rotation's overlap,
	// signs beside SigningSecret: webhook-signature carries both
	// ("v1,<new> v1,<old>") and X-Wandb-Signature, which has room for one,
	// stays on the old secret until receivers switch. "" outside a rotation.
	PreviousSigningSecret string
	// DeliveryID identifies the delivery and must stay the same across
	// retries so receivers can drop duplicates; "" generates a random one.
	DeliveryID string
	// Timestamp is when the attempt was made; zero means now.
	Timestamp time.Time
}

// Response is what the endpoint answered.
type Response struct {
	// RequestHeaders are the headers sent, the access token included:
	// redact before showing (see Headers).
	RequestHeaders []Header
	Status         int
	Headers        http.Header
	Body           []byte // at most Config.MaxResponseBytes
	Truncated      bool   // the endpoint sent more than Body holds
	Duration       time.Duration
}

// Sender sends webhooks. It holds one http.Transport so connections are
// reused across deliveries; it is safe for concurrent use.
type Sender struct {
	cfg    Config
	policy *policy
	client *http.Client

	// skipHostRules disables ValidateURL's host rules in Send (the scheme is
	// still checked) so tests can prove the dial-time check on its own.
	skipHostRules bool
}

// New builds a Sender. It fails on an AllowedTargets entry that is neither a
// CIDR, an IP address nor a host name, naming the entry.
func New(cfg Config) (*Sender, error) {
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if cfg.MaxRedirects == 0 {
		cfg.MaxRedirects = DefaultMaxRedirects
	}
	p, err := newPolicy(cfg.AllowedTargets)
	if err != nil {
		return nil, err
	}
	s := &Sender{cfg: cfg, policy: p}
	dialer := &net.Dialer{
		Timeout:  cfg.ConnectTimeout,
		Resolver: cfg.Resolver,
		// Runs on the resolved address just before connect(), for every
		// connection: first hop, each redirect, and after DNS rebinding.
		ControlContext: p.control,
	}
	transport := &http.Transport{
		Proxy: nil, // never route webhooks through a proxy from the environment
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			ctx, addr, err := p.prepareDial(ctx, addr)
			if err != nil {
				return nil, err
			}
			return dialer.DialContext(ctx, network, addr)
		},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   cfg.ConnectTimeout,
		ExpectContinueTimeout: time.Second,
	}
	s.client = &http.Client{Transport: transport, CheckRedirect: s.checkRedirect}
	return s, nil
}

// Close releases idle connections.
func (s *Sender) Close() { s.client.CloseIdleConnections() }

// Send POSTs r.Body to r.URL and reads the response up to the cap. A non-2xx
// status is not an error; the caller decides what to retry. Errors wrap
// ErrInvalidURL, ErrBlocked, ErrTooManyRedirects, context.DeadlineExceeded
// (Config.Timeout) or a network error.
func (s *Sender) Send(ctx context.Context, r Request) (Response, error) {
	if r.DeliveryID == "" {
		r.DeliveryID = "msg_" + rand.Text()
	}
	if r.Timestamp.IsZero() {
		r.Timestamp = time.Now()
	}

	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	// The request parses the URL once; it is checked before anything is
	// sent (and each hop again in checkRedirect, each address at dial time).
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSpace(r.URL), bytes.NewReader(r.Body))
	if err != nil {
		return Response{}, invalidURL("is not a valid URL")
	}
	if err := s.checkURL(req.URL); err != nil {
		return Response{}, err
	}
	sent := Headers(r, r.AccessToken)
	req.Header = headerMap(sent)

	start := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		return Response{RequestHeaders: sent, Duration: time.Since(start)}, fmt.Errorf("sending webhook: %w", unwrapURLError(err))
	}
	defer resp.Body.Close()
	body, truncated, err := readCapped(resp.Body, resp.ContentLength, s.cfg.MaxResponseBytes)
	out := Response{
		RequestHeaders: sent,
		Status:         resp.StatusCode,
		Headers:        resp.Header,
		Body:           body,
		Truncated:      truncated,
		Duration:       time.Since(start),
	}
	if err != nil {
		return out, fmt.Errorf("reading webhook response: %w", err)
	}
	return out, nil
}

// headerMap is hs as request headers. Headers writes names in canonical
// form, so they are stored as given (http.Header.Set would canonicalize
// each again), and all values share one backing array.
func headerMap(hs []Header) http.Header {
	h := make(http.Header, len(hs))
	values := make([]string, len(hs))
	for i, hd := range hs {
		values[i] = hd.Value
		h[hd.Name] = values[i : i+1 : i+1]
	}
	return h
}

// Header is one request header.
type Header struct{ Name, Value string }

// Headers are the headers a delivery of r carries, in order, names in
// canonical form, with token standing for the access token: pass
// r.AccessToken to send, a placeholder to show the request.
func Headers(r Request, token string) []Header {
	ts := strconv.FormatInt(r.Timestamp.Unix(), 10)
	hs := make([]Header, 0, 9)
	hs = append(hs, Header{"Content-Type", "application/json"}, Header{"User-Agent", UserAgent})
	if r.AccessToken != "" {
		hs = append(hs, Header{"Authorization", "Bearer " + token})
	}
	hs = append(hs,
		Header{"X-Automations-Delivery", r.DeliveryID},
		Header{"X-Automations-Timestamp", ts},
		Header{"Webhook-Id", r.DeliveryID},
		Header{"Webhook-Timestamp", ts},
	)
	if r.SigningSecret != "" {
		wandb, standard := signatures(r)
		hs = append(hs,
			Header{"X-Wandb-Signature", wandb},
			Header{"Webhook-Signature", standard},
		)
	}
	return hs
}

// checkRedirect applies the first hop's URL rules to every hop; the address
// itself is checked again when the hop is dialled.
func (s *Sender) checkRedirect(req *http.Request, via []*http.Request) error {
	if s.cfg.MaxRedirects < 0 {
		return http.ErrUseLastResponse
	}
	if len(via) > s.cfg.MaxRedirects {
		return fmt.Errorf("%w: stopped after %d", ErrTooManyRedirects, s.cfg.MaxRedirects)
	}
	return s.checkURL(req.URL)
}

func (s *Sender) checkURL(u *url.URL) error {
	if s.skipHostRules {
		return checkScheme(u)
	}
	return s.validate(u)
}

// readCapped reads at most max bytes and reports whether more were sent.
// Reading to EOF when the body fits lets the connection be reused. size is
// the declared Content-Length (-1: unknown): an empty body (204, most
// acknowledgements) allocates nothing, and a declared size that fits is
// read into a buffer of that size. Either way at most max+1 bytes are read.
func readCapped(r io.Reader, size, max int64) ([]byte, bool, error) {
	if size == 0 {
		return nil, false, nil
	}
	lr := io.LimitedReader{R: r, N: max + 1}
	var b []byte
	if size > 0 && size <= max {
		// One byte more than declared: the read that meets EOF needs no growth.
		b = make([]byte, 0, size+1)
	} else {
		b = make([]byte, 0, min(max+1, 512))
	}
	for {
		n, err := lr.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return capped(b, max, err)
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // grow
		}
	}
	return capped(b, max, nil)
}

func capped(b []byte, max int64, err error) ([]byte, bool, error) {
	if int64(len(b)) > max {
		return b[:max], true, err
	}
	return b, false, err
}

// unwrapURLError drops net/http's *url.Error, whose message repeats the
// whole URL (webhook URLs often carry tokens in their path).
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
