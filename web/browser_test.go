package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/automations-dev/automations/web/webtest"
)

// A team admin signs in and sees the Team Settings page with its member
// controls; a member sees the page without them, and the add-member POST the
// member's own browser sends directly (with a valid CSRF token) gets 403.
func TestBrowserTeamPageByRole(t *testing.T) {
	f := newTeamFixture(t)
	app := f.app

	ctx := webtest.NewBrowser(t)
	app.SignIn(t, ctx, "admin@example.com")
	err := chromedp.Do(ctx,
		chromedp.Navigate(app.URL+"/teams"),
		webtest.ClickNav(chromedp.CSS(`[data-testid="teams"] a[href="/teams/ml"]`)),
		chromedp.WaitVisible(webtest.TestID("members-section")),
		chromedp.WaitVisible(webtest.TestID("add-member-form")),
		chromedp.SendKeys(webtest.TestID("field-email"), "other@example.com"),
		webtest.ClickNav(webtest.TestID("add-member")),
		chromedp.WaitVisible(webtest.TestID("member-other@example.com")),
	)
	if err != nil {
		t.Fatalf("admin adds a member in the browser: %v", err)
	}
	flash, err := chromedp.Run(ctx, chromedp.Text(webtest.TestID("flash")))
	if err != nil || !strings.Contains(flash, "Added other@example.com") {
		t.Fatalf("flash = %q, %v", flash, err)
	}

	ctx = webtest.NewBrowser(t)
	app.SignIn(t, ctx, "member@example.com")
	if err := chromedp.Do(ctx,
		chromedp.Navigate(app.URL+"/teams/ml"),
		chromedp.WaitVisible(webtest.TestID("members-section")),
	); err != nil {
		t.Fatal(err)
	}
	role, err := chromedp.Run(ctx, chromedp.Text(webtest.TestID("my-role")))
	if err != nil || role != "member" {
		t.Fatalf("my role = %q, %v", role, err)
	}
	controls, err := chromedp.Run(ctx, chromedp.Evaluate[int](
		`document.querySelectorAll('[data-testid="add-member-form"], [data-testid="change-role"], [data-testid="remove-member"]').length`))
	if err != nil || controls != 0 {
		t.Fatalf("member sees %d admin controls (%v)", controls, err)
	}
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`(async () => {
		const body = new URLSearchParams({email: 'viewer@example.com', role: 'admin',
			_csrf: document.querySelector('input[name=_csrf]').value});
		const r = await fetch('/teams/ml/members', {method: 'POST', body});
		return r.status;
	})()`, chromedp.EvalAwaitPromise))
	if err != nil || status != 403 {
		t.Fatalf("member's direct POST: status %d (%v), want 403", status, err)
	}
	if got := f.teamRoles(t)["viewer@example.com"]; got != "viewer" {
		t.Fatalf("viewer's role changed to %q", got)
	}
}
