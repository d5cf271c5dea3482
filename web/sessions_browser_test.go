package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/automations-dev/automations/web/webtest"
)

// A user sees their signed-in browsers in Settings, revokes the other one,
// gets a field error for a mistyped confirmation and then changes the
// password; every other browser ends up signed out.
func TestBrowserSessionsAndPasswordInSettings(t *testing.T) {
	app := webtest.Start(t)
	app.User(t, "ada@example.com", false)
	laptop := app.SignInHTTP(t, "ada@example.com")
	phone := app.SignInHTTP(t, "ada@example.com")
	laptopRow := sessionRow(t, app, laptop)

	ctx := webtest.NewBrowser(t)
	app.SignIn(t, ctx, "ada@example.com")
	webtest.Do(t, ctx, "open settings",
		chromedp.Navigate(app.URL+"/settings"),
		chromedp.WaitVisible(webtest.TestID("session-list")),
	)
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="session-list"] tbody tr').length`))
	if err != nil || rows != 3 {
		t.Fatalf("%d sessions listed (%v), want 3", rows, err)
	}
	marker, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid="this-session"]').closest('tr').innerText`))
	// The other two signed in with Go's HTTP client.
	if err != nil || strings.Contains(marker, "Go-http-client") || !strings.Contains(marker, "Mozilla") {
		t.Fatalf("'this session' is on the row %q (%v), want the browser's own", marker, err)
	}

	webtest.Do(t, ctx, "revoke the laptop",
		webtest.ClickNav(chromedp.CSS(fmt.Sprintf(`[data-testid="session-%d"] [data-testid="revoke-session"]`, laptopRow.ID))),
		chromedp.WaitVisible(webtest.TestID("flash")),
	)
	rows, _ = chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="session-list"] tbody tr').length`))
	if rows != 2 || signedIn(t, laptop) || !signedIn(t, phone) {
		t.Fatalf("after revoking the laptop: %d rows listed, laptop signed in %v, phone %v", rows, signedIn(t, laptop), signedIn(t, phone))
	}

	webtest.Do(t, ctx, "mistype the confirmation",
		chromedp.SendKeys(webtest.TestID("field-current_password"), webtest.Password),
		chromedp.SendKeys(webtest.TestID("field-new_password"), "a new long password"),
		chromedp.SendKeys(webtest.TestID("field-confirm_password"), "a new long passwore"),
		webtest.ClickNav(webtest.TestID("change-password")),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="password-form"] .field-error`)),
	)
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-testid="password-form"] .field-error`)))
	if err != nil || !strings.Contains(msg, "does not match") {
		t.Fatalf("field error %q (%v)", msg, err)
	}
	webtest.Do(t, ctx, "change the password",
		chromedp.SendKeys(webtest.TestID("field-current_password"), webtest.Password),
		chromedp.SendKeys(webtest.TestID("field-new_password"), "a new long password"),
		chromedp.SendKeys(webtest.TestID("field-confirm_password"), "a new long password"),
		webtest.ClickNav(webtest.TestID("change-password")),
		chromedp.WaitVisible(webtest.TestID("flash")),
	)
	flash, err := chromedp.Run(ctx, chromedp.Text(webtest.TestID("flash")))
	if err != nil || !strings.Contains(flash, "Password changed") {
		t.Fatalf("flash %q (%v)", flash, err)
	}
	rows, _ = chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="session-list"] tbody tr').length`))
	if rows != 1 || signedIn(t, phone) {
		t.Fatalf("after the change: %d rows listed, phone signed in %v; want only this browser", rows, signedIn(t, phone))
	}
}
