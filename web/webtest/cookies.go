package webtest

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"
)

// Anonymous is a browser-like client that has not signed in.
func (a *App) Anonymous(t testing.TB) *Session {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &Session{app: a, client: &http.Client{
		Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

// Copy is another client holding a copy of this one's cookies as they are
// now: a saved cookie, to replay after the original signs out.
func (s *Session) Copy(t testing.TB) *Session {
	t.Helper()
	c := s.app.Anonymous(t)
	u, _ := url.Parse(s.app.URL)
	c.client.Jar.SetCookies(u, s.client.Jar.Cookies(u))
	return c
}

// Cookie is the value of the named cookie this client holds, "" if none.
func (s *Session) Cookie(name string) string {
	u, _ := url.Parse(s.app.URL)
	for _, c := range s.client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// PostFormWithHeader submits a form with the CSRF token and extra headers
// (X-Forwarded-For, User-Agent) and returns the status and body.
func (s *Session) PostFormWithHeader(t testing.TB, path string, form url.Values, header http.Header) (int, string) {
	t.Helper()
	return s.doWith(t, http.MethodPost, path, form, true, header)
}
