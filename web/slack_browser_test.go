package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/automations-dev/automations/web/webtest"
)

// A team admin clicks Connect Slack, allows the app on the (fake) Slack
// consent screen, searches the workspace's channels, picks #alerts and sees
// it listed in Team Settings; then deletes it after confirming.
func TestBrowserConnectSlack(t *testing.T) {
	f := newSlackFixture(t)
	ctx := webtest.NewBrowser(t)
	f.app.SignIn(t, ctx, "alice@example.com")

	webtest.Do(t, ctx, "connect and come back to the channel chooser",
		chromedp.Navigate(f.app.URL+"/teams/ml#slack"),
		chromedp.WaitVisible(webtest.TestID("slack-section")),
		webtest.ClickNav(webtest.TestID("connect-slack")),
		chromedp.WaitVisible(webtest.TestID("slack-allow")),
		webtest.ClickNav(webtest.TestID("slack-allow")),
		chromedp.WaitVisible(webtest.TestID("slack-search")),
		chromedp.WaitVisible(webtest.TestID("slack-channel-general")),
	)
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || loc != f.app.URL+"/teams/ml/slack/channels" {
		t.Fatalf("after Allow the browser is at %q (%v)", loc, err)
	}
	ws, err := chromedp.Run(ctx, chromedp.Text(webtest.TestID("slack-workspace")))
	if err != nil || ws != "Acme Corp" {
		t.Fatalf("workspace shown %q (%v)", ws, err)
	}
	// Typing searches through htmx: #general leaves the list, #alerts stays.
	webtest.Do(t, ctx, "search and choose #alerts",
		chromedp.SendKeys(webtest.TestID("slack-search"), "ale"),
		chromedp.WaitNotPresent(webtest.TestID("slack-channel-general")),
		webtest.HtmxIdle(),
		chromedp.WaitVisible(webtest.TestID("choose-alerts")),
		webtest.ClickNav(webtest.TestID("choose-alerts")),
		chromedp.WaitVisible(webtest.TestID("slack-alerts")),
	)
	flash, err := chromedp.Run(ctx, chromedp.Text(webtest.TestID("flash")))
	if err != nil || !strings.Contains(flash, "#alerts of Acme Corp connected") {
		t.Fatalf("flash %q (%v)", flash, err)
	}
	row, err := chromedp.Run(ctx, chromedp.Text(webtest.TestID("slack-alerts")))
	if err != nil || !strings.Contains(row, "Acme Corp") || !strings.Contains(row, "#alerts") || !strings.Contains(row, "alice@example.com") {
		t.Fatalf("listed row %q (%v)", row, err)
	}
	if all := f.integrations(t); len(all) != 1 || all[0].ChannelID != "C0ALERTS" {
		t.Fatalf("stored integrations = %+v", all)
	}

	// Delete asks first (hx-confirm); accepting removes the row.
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	asked := make(chan string, 1)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			asked <- ev.Message
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	webtest.Do(t, ctx, "delete #alerts",
		chromedp.Click(in("slack-alerts", "delete-slack")),
		chromedp.WaitNotPresent(webtest.TestID("slack-alerts")),
	)
	if msg := <-asked; !strings.Contains(msg, "#alerts") {
		t.Errorf("the confirmation asked %q", msg)
	}
	if all := f.integrations(t); len(all) != 0 {
		t.Fatalf("integrations after delete = %+v", all)
	}
}
