package handlers

import "testing"

func TestSamePageIgnoresOnlyTheFragment(t *testing.T) {
	for _, tc := range []struct {
		current, to string
		want        bool
	}{
		{"http://h:1/teams/ml#slack", "/teams/ml#slack", true},
		{"http://h:1/teams/ml", "/teams/ml#secrets", true},
		{"http://h:1/teams/ml/slack/channels", "/teams/ml#slack", false},
		{"http://h:1/teams/ml?x=1", "/teams/ml", false},
		{"http://h:1/teams/ml", "http://other/teams/ml", false},
		{"", "/teams/ml", false},
	} {
		if got := samePage(tc.current, tc.to); got != tc.want {
			t.Errorf("samePage(%q, %q) = %v, want %v", tc.current, tc.to, got, tc.want)
		}
	}
}
