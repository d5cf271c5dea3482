package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/automations-dev/automations/web/webtest"
)

// The whole invitation in browsers: a team admin adds a member by a new
// email, copies the shown link with the Copy button, and the invited person
// opens it in a fresh browser, sets a password, lands signed in and sees
// the team.
func TestBrowserInviteJourney(t *testing.T) {
	f := newTeamFixture(t)
	app := f.app

	ctx := webtest.NewBrowser(t)
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: name}, Setting: browser.PermissionSettingGranted, Origin: app.URL,
		}); err != nil {
			t.Fatalf("grant %s: %v", name, err)
		}
	}
	app.SignIn(t, ctx, "admin@example.com")
	webtest.Do(t, ctx, "the admin adds a member by a new email",
		chromedp.Navigate(app.URL+"/teams/ml"),
		chromedp.WaitVisible(webtest.TestID("add-member-form")),
		chromedp.SendKeys(webtest.TestID("field-email"), "newcomer@example.com"),
		chromedp.SetValue(webtest.TestID("select-role"), "member"),
		webtest.ClickNav(webtest.TestID("add-member")),
		chromedp.WaitVisible(webtest.TestID("invite-link-box")),
		chromedp.WaitVisible(webtest.TestID("member-newcomer@example.com")),
		chromedp.Click(webtest.TestID("copy-invite-link")),
		chromedp.WaitVisible(`[data-testid="copy-invite-link"][data-copied="true"]`),
	)
	link, err := chromedp.Run(ctx, chromedp.Text(webtest.TestID("invite-link")))
	if err != nil {
		t.Fatal(err)
	}
	copied, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("read the clipboard: %v", err)
	}
	if copied != link || !strings.HasPrefix(link, app.URL+"/invite/") {
		t.Fatalf("shown link %q, copied %q", link, copied)
	}

	fresh := webtest.NewBrowser(t)
	webtest.Do(t, fresh, "the invited person sets a password",
		chromedp.Navigate(link),
		chromedp.WaitVisible(webtest.TestID("invite-form")),
		chromedp.SendKeys(webtest.TestID("field-password"), "my own password"),
		chromedp.SendKeys(webtest.TestID("field-confirm"), "my own password"),
		webtest.ClickNav(webtest.TestID("set-password")),
		chromedp.WaitVisible(webtest.TestID("home-status")),
	)
	// Signed in on the home page (/), and the team they joined is theirs.
	loc, err := chromedp.Run(fresh, chromedp.Location())
	if err != nil || loc != app.URL+"/" {
		t.Fatalf("after setting the password the browser is at %q (%v), want the home page", loc, err)
	}
	webtest.Do(t, fresh, "the new member sees the team",
		webtest.ClickNav(`a.nav-link[href="/teams"]`),
		chromedp.WaitVisible(`[data-testid="teams"] a[href="/teams/ml"]`),
	)

	// The link was single use: opening it again shows the one "not valid" page.
	webtest.Do(t, fresh, "the link is used up",
		chromedp.Navigate(link),
		chromedp.WaitVisible(webtest.TestID("error-410")),
	)
}
