package sender

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestSendHeaders(t *testing.T) {
	rc := newReceiver(t, "tcp4", nil)
	s := newTestSender(t, Config{AllowedTargets: []string{"127.0.0.1/32"}})
	ts := time.Unix(1767225600, 0)
	body := []byte(`{"event_type":"ADD_ARTIFACT_ALIAS"}`)
	tests := []struct {
		name     string
		token    string
		secret   string
		wantAuth string
	}{
		{"neither", "", "", ""},
		{"access token", "tok-123", "", "Bearer tok-123"},
		{"signing secret", "", "shh", ""},
		{"both", "tok-123", "shh", "Bearer tok-123"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(rc.requests())
			resp, err := s.Send(context.Background(), Request{
				URL: rc.URL + "/hook", Body: body, AccessToken: tc.token, SigningSecret: tc.secret,
				DeliveryID: "dlv_42", Timestamp: ts,
			})
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if resp.Status != http.StatusOK || string(resp.Body) != "ok" || resp.Truncated {
				t.Errorf("response = %d %q truncated=%v, want 200 \"ok\"", resp.Status, resp.Body, resp.Truncated)
			}
			got := rc.requests()[before]
			if got.Method != http.MethodPost || got.Path != "/hook" || !bytes.Equal(got.Body, body) {
				t.Errorf("got %s %s %q, want POST /hook with the body as given", got.Method, got.Path, got.Body)
			}
			want := map[string]string{
				"Content-Type":            "application/json",
				"User-Agent":              "Automations-Webhook/1",
				"Authorization":           tc.wantAuth,
				"X-Automations-Delivery":  "dlv_42",
				"X-Automations-Timestamp": "1767225600",
				"webhook-id":              "dlv_42",
				"webhook-timestamp":       "1767225600",
				"X-Wandb-Signature":       "",
				"webhook-signature":       "",
			}
			if tc.secret != "" {
				want["X-Wandb-Signature"] = SignWandb(tc.secret, body)
				want["webhook-signature"] = SignStandardWebhooks([]byte(tc.secret), "dlv_42", ts, body)
			}
			for name, value := range want {
				if vs := got.Header.Values(name); value == "" && len(vs) != 0 {
					t.Errorf("%s = %q, want no header", name, vs)
				} else if value != "" && (len(vs) != 1 || vs[0] != value) {
					t.Errorf("%s = %q, want %q", name, vs, value)
				}
			}
		})
	}
}

func TestSendFillsDeliveryIDAndTimestamp(t *testing.T) {
	rc := newReceiver(t, "tcp4", nil)
	s := newTestSender(t, Config{AllowedTargets: []string{"127.0.0.1/32"}})
	if _, err := s.Send(context.Background(), Request{URL: rc.URL}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	h := rc.only(t).Header
	if id := h.Get("webhook-id"); id == "" || id != h.Get("X-Automations-Delivery") {
		t.Errorf("webhook-id %q, X-Automations-Delivery %q: want the same generated id", id, h.Get("X-Automations-Delivery"))
	}
	if sec, err := strconv.ParseInt(h.Get("webhook-timestamp"), 10, 64); err != nil || sec <= 0 {
		t.Errorf("webhook-timestamp = %q, want Unix seconds", h.Get("webhook-timestamp"))
	}
}

// hangingListener accepts connections and never answers.
func hangingListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String() + "/"
}

func TestSendTimesOut(t *testing.T) {
	stalled := newReceiver(t, "tcp4", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		<-r.Context().Done() // until the sender gives up and hangs up
	})
	tests := []struct {
		name string
		url  string
	}{
		{"no response at all", hangingListener(t)},
		{"body never finishes", stalled.URL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestSender(t, Config{AllowedTargets: []string{"127.0.0.1/32"}, Timeout: 100 * time.Millisecond})
			_, err := s.Send(context.Background(), Request{URL: tc.url, Body: []byte(`{}`)})
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("error = %v, want context.DeadlineExceeded", err)
			}
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Errorf("error = %v, want a net.Error with Timeout() true", err)
			}
		})
	}
}

func TestSendCapsResponseBody(t *testing.T) {
	rc := newReceiver(t, "tcp4", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if r.URL.Query().Get("declared") != "" {
			w.Header().Set("Content-Length", strconv.Itoa(n/8*8))
		}
		if n == 0 {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Write(bytes.Repeat([]byte("abcdefgh"), n/8))
	})
	tests := []struct {
		name          string
		maxBytes      int64
		size          int
		wantLen       int
		wantTruncated bool
	}{
		{"small", 0, 1024, 1024, false},
		{"exactly the default cap", 0, 64 << 10, 64 << 10, false},
		{"one chunk over the cap", 0, 64<<10 + 8, 64 << 10, true},
		{"1 MiB", 0, 1 << 20, 64 << 10, true},
		{"custom cap", 100, 1 << 20, 100, true},
		{"no content", 0, 0, 0, false},
	}
	for _, tc := range tests {
		// The length declared (Content-Length) or not (chunked): a
		// declared length that fits is read into a buffer of that size.
		for _, declared := range []bool{false, true} {
			name := tc.name
			if declared {
				name += " with Content-Length"
			}
			t.Run(name, func(t *testing.T) {
				s := newTestSender(t, Config{AllowedTargets: []string{"127.0.0.1/32"}, MaxResponseBytes: tc.maxBytes})
				url := fmt.Sprintf("%s/?n=%d", rc.URL, tc.size)
				if declared {
					url += "&declared=1"
				}
				resp, err := s.Send(context.Background(), Request{URL: url})
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				if len(resp.Body) != tc.wantLen || resp.Truncated != tc.wantTruncated {
					t.Errorf("body %d bytes truncated=%v, want %d and %v", len(resp.Body), resp.Truncated, tc.wantLen, tc.wantTruncated)
				}
				if !bytes.Equal(resp.Body, bytes.Repeat([]byte("abcdefgh"), tc.size/8)[:tc.wantLen]) {
					t.Error("body is not the start of what was sent")
				}
				if cap(resp.Body) > max(tc.wantLen+1, 512) && declared && !tc.wantTruncated {
					t.Errorf("a declared body of %d bytes was read into %d", tc.wantLen, cap(resp.Body))
				}
			})
		}
	}
}

// hopHandler redirects /hop/N to /hop/N-1 (status from ?code=, default
// 307) and answers 200 "done" at /hop/0.
func hopHandler(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hop/"))
	if n == 0 {
		io.WriteString(w, "done")
		return
	}
	code, _ := strconv.Atoi(r.URL.Query().Get("code"))
	if code == 0 {
		code = http.StatusTemporaryRedirect
	}
	http.Redirect(w, r, fmt.Sprintf("/hop/%d?%s", n-1, r.URL.RawQuery), code)
}

func TestRedirectLimit(t *testing.T) {
	tests := []struct {
		name         string
		maxRedirects int
		hops         int
		wantStatus   int
		wantErr      error
		wantRequests int
	}{
		{"default follows 3", 0, 3, http.StatusOK, nil, 4},
		{"default stops at the 4th", 0, 4, 0, ErrTooManyRedirects, 4},
		{"limit 1 follows 1", 1, 1, http.StatusOK, nil, 2},
		{"limit 1 stops at the 2nd", 1, 2, 0, ErrTooManyRedirects, 2},
		{"negative returns the redirect", -1, 1, http.StatusTemporaryRedirect, nil, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t, "tcp4", hopHandler)
			s := newTestSender(t, Config{AllowedTargets: []string{"127.0.0.1/32"}, MaxRedirects: tc.maxRedirects})
			resp, err := s.Send(context.Background(), Request{URL: fmt.Sprintf("%s/hop/%d", rc.URL, tc.hops)})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("error = %v, want %v", err, tc.wantErr)
			}
			if resp.Status != tc.wantStatus {
				t.Errorf("status = %d, want %d", resp.Status, tc.wantStatus)
			}
			if n := len(rc.requests()); n != tc.wantRequests {
				t.Errorf("receiver got %d requests, want %d", n, tc.wantRequests)
			}
		})
	}
}

// TestRedirectResendsBodyOn307And308: 307 and 308 repeat the signed POST;
// 301, 302 and 303 turn it into a GET without a body, as browsers do.
func TestRedirectResendsBodyOn307And308(t *testing.T) {
	body := []byte(`{"a":"b"}`)
	tests := []struct {
		code       int
		wantMethod string
		wantBody   string
	}{
		{http.StatusMovedPermanently, http.MethodGet, ""},
		{http.StatusFound, http.MethodGet, ""},
		{http.StatusSeeOther, http.MethodGet, ""},
		{http.StatusTemporaryRedirect, http.MethodPost, string(body)},
		{http.StatusPermanentRedirect, http.MethodPost, string(body)},
	}
	for _, tc := range tests {
		t.Run(strconv.Itoa(tc.code), func(t *testing.T) {
			rc := newReceiver(t, "tcp4", hopHandler)
			s := newTestSender(t, Config{AllowedTargets: []string{"127.0.0.1/32"}})
			resp, err := s.Send(context.Background(), Request{
				URL: fmt.Sprintf("%s/hop/1?code=%d", rc.URL, tc.code), Body: body, SigningSecret: "shh",
			})
			if err != nil || resp.Status != http.StatusOK {
				t.Fatalf("Send: %d, %v; want 200", resp.Status, err)
			}
			reqs := rc.requests()
			if len(reqs) != 2 {
				t.Fatalf("receiver got %d requests, want 2", len(reqs))
			}
			last := reqs[1]
			if last.Method != tc.wantMethod || string(last.Body) != tc.wantBody {
				t.Errorf("second hop: %s %q, want %s %q", last.Method, last.Body, tc.wantMethod, tc.wantBody)
			}
			if sig := last.Header.Get("X-Wandb-Signature"); sig != SignWandb("shh", body) {
				t.Errorf("second hop X-Wandb-Signature = %q", sig)
			}
		})
	}
}

// TestSendReusesConnections: deliveries share keep-alive connections.
func TestSendReusesConnections(t *testing.T) {
	var newConns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, `{"ok":true}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			newConns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	s := newTestSender(t, Config{AllowedTargets: []string{"127.0.0.0/8", "::1/128"}})

	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for range workers {
		wg.Go(func() {
			for range each {
				if _, err := s.Send(context.Background(), Request{URL: srv.URL, Body: []byte(`{}`), SigningSecret: "k"}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Send: %v", err)
	}
	// Without reuse every delivery opens a connection. With it a few extra
	// can appear: a dial may start just before a finished connection is
	// returned to the pool.
	n := int(newConns.Load())
	t.Logf("%d connections for %d deliveries from %d workers", n, workers*each, workers)
	if n > workers*each/4 {
		t.Errorf("%d connections for %d deliveries, want keep-alive reuse (at most %d)", n, workers*each, workers*each/4)
	}
}

func BenchmarkSend(b *testing.B) {
	srv := benchServer(b)
	s := newTestSender(b, Config{AllowedTargets: []string{"127.0.0.0/8", "::1/128"}})
	req := Request{URL: srv.URL, Body: benchBody(), SigningSecret: "bench-secret", AccessToken: "tok", DeliveryID: "dlv_bench"}
	b.ReportAllocs()
	for b.Loop() {
		resp, err := s.Send(context.Background(), req)
		if err != nil || resp.Status != http.StatusOK {
			b.Fatalf("Send: %d %v", resp.Status, err)
		}
	}
}

// BenchmarkBareClient is the baseline for BenchmarkSend: a plain net/http
// POST of the same body, no signing, no SSRF check.
func BenchmarkBareClient(b *testing.B) {
	srv := benchServer(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.Cleanup(client.CloseIdleConnections)
	body := benchBody()
	b.ReportAllocs()
	for b.Loop() {
		resp, err := client.Post(srv.URL, "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

func benchServer(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, `{"ok":true}`)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// benchBody is a ~1 KiB JSON payload.
func benchBody() []byte {
	return []byte(`{"event_type":"ADD_ARTIFACT_ALIAS","project_name":"wandb-registry-model","entity_name":"org","payload":"` +
		strings.Repeat("x", 900) + `"}`)
}

// Send stores Headers' names in the request as they are, without
// canonicalizing them again: they must already be canonical, or a lookup
// such as Header.Get (redirect hops copy headers with it) would miss them.
func TestHeaderNamesAreCanonical(t *testing.T) {
	r := Request{Body: []byte(`{}`), AccessToken: "tok", SigningSecret: "new", PreviousSigningSecret: "old", DeliveryID: "dlv_1", Timestamp: time.Unix(1767225600, 0)}
	hs := Headers(r, r.AccessToken)
	if len(hs) != 9 {
		t.Fatalf("%d headers with every option, want 9: %v", len(hs), hs)
	}
	for _, h := range hs {
		if c := textproto.CanonicalMIMEHeaderKey(h.Name); c != h.Name {
			t.Errorf("header %q is not canonical (%q)", h.Name, c)
		}
	}
}
