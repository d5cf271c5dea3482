package handlers

import "testing"

func TestSafeNextKeepsRedirectsOnThisSite(t *testing.T) {
	cases := []struct {
		next, want string
	}{
		{"/teams/ml?x=1", "/teams/ml?x=1"},
		{"/", "/"},
		{"/projects/ml/vision/automations#list", "/projects/ml/vision/automations#list"},
		{"/search?q=a%2Fb", "/search?q=a%2Fb"},
		{"", "/"},
		{"teams", "/"},
		{"//evil.example", "/"},
		{"///evil.example", "/"},
		{"/\\evil.example", "/"},
		{"/\\/evil.example", "/"},
		{"/teams\\..\\evil", "/"},
		{"/\t/evil.example", "/"},
		{"/\n/evil.example", "/"},
		{"/\r/evil.example", "/"},
		{"/\x00", "/"},
		{"/\x7f/evil.example", "/"},
		{"/%09/evil.example", "/"},
		{"/%0a/evil.example", "/"},
		{"/%2F/evil.example", "/"},
		{"/%5Cevil.example", "/"},
		{"https://evil.example", "/"},
		{"https:/evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"JavaScript:alert(1)", "/"},
		{" /teams", "/"},
		{"\t//evil.example", "/"},
	}
	for _, c := range cases {
		if got := safeNext(c.next); got != c.want {
			t.Errorf("safeNext(%q) = %q, want %q", c.next, got, c.want)
		}
	}
}
