package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/automations-dev/automations/web/webtest"
)

// In a browser in Tokyo, history times read in Tokyo time (the datetime
// stays UTC); Redeliver keeps the row open, says what it did there, and
// the row refreshes itself until the new attempt is in, still open.
func TestBrowserHistoryRowRedeliverAndLocalTime(t *testing.T) {
	f := newAutomationFixture(t, nil)
	a := f.must(t, http.StatusCreated, "POST", "/api/v1/automations", projectAutomation("notify", "CREATE_ARTIFACT", `{"v": "${artifact_version_string}"}`))
	f.must(t, http.StatusCreated, "POST", "/api/v1/projects/ml/mnist/artifacts", map[string]any{"name": "mnist-model", "type": "model"})
	f.receiver.next(t)
	f.deliveries(t, a["id"], allIn("succeeded", 1))

	ctx := webtest.NewBrowser(t)
	if _, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Tokyo"}); err != nil {
		t.Fatal(err)
	}
	f.app.SignIn(t, ctx, "admin@example.com")
	webtest.Do(t, ctx, "open the automation",
		chromedp.Navigate(f.app.URL+fmt.Sprintf("/automations/%v", a["id"])),
		chromedp.WaitVisible(`[data-testid="delivery"][data-state="succeeded"]`),
	)
	when, err := chromedp.Run(ctx, chromedp.Text(`[data-testid="delivery"] summary time`))
	if err != nil || !strings.HasSuffix(when, "JST") {
		t.Errorf("delivery time reads %q (%v), want Tokyo time", when, err)
	}
	attr, err := chromedp.Run(ctx, chromedp.AttributeValue(`[data-testid="delivery"] summary time`, "datetime"))
	if err != nil || !strings.HasSuffix(attr.Value, "Z") {
		t.Errorf("datetime = %q (%v), want UTC", attr.Value, err)
	}
	version, err := chromedp.Run(ctx, chromedp.Text(webtest.TestID("delivery-version")))
	if err != nil || version != "ml/mnist/mnist-model:v0" {
		t.Errorf("the row names its event %q (%v)", version, err)
	}

	webtest.Do(t, ctx, "open the row and redeliver",
		chromedp.Click(`[data-testid="delivery"] [data-testid="delivery-state"]`),
		chromedp.Click(webtest.TestID("redeliver")),
	)
	f.receiver.next(t)
	// Polled with script, not node queries: the row replaces itself.
	done, err := chromedp.Run(ctx, chromedp.Poll[bool](`(() => {
		const row = document.querySelector('[data-testid="delivery"]');
		return !!row && row.open && row.dataset.state === "succeeded" &&
			row.querySelector('[data-testid="delivery-attempts"]').textContent.startsWith("2 attempt");
	})()`))
	if err != nil || !done {
		html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#deliveries').outerHTML`))
		t.Fatalf("after Redeliver the row did not come back open with the second attempt (%v):\n%s", err, html)
	}
	notice, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('[data-testid="delivery-notice"]') || {}).textContent || ""`))
	if err != nil || !strings.Contains(notice, "Queued for a new attempt") {
		t.Errorf("the row no longer says what Redeliver did: %q (%v)", notice, err)
	}
}

// A new API key has a Copy button that copies it and says so.
func TestBrowserCopyNewAPIKey(t *testing.T) {
	app := webtest.Start(t)
	app.User(t, "user@example.com", false)
	ctx := webtest.NewBrowser(t)
	app.SignIn(t, ctx, "user@example.com")
	webtest.Do(t, ctx, "mint a key",
		chromedp.Navigate(app.URL+"/settings"),
		chromedp.SendKeys(`[data-testid="new-key-form"] input[name="name"]`, "ci"),
		webtest.ClickNav(webtest.TestID("create-key")),
		chromedp.WaitVisible(webtest.TestID("copy-new-api-key-value")),
		chromedp.Click(webtest.TestID("copy-new-api-key-value")),
	)
	// Headless Chromium may refuse the clipboard: then the key is selected
	// for the user to copy by hand, and the button says so.
	copied, err := chromedp.Run(ctx, chromedp.Poll[string](`document.querySelector('[data-testid="copy-new-api-key-value"]').getAttribute("data-copied")`))
	if err != nil || (copied != "true" && copied != "false") {
		t.Fatalf("the Copy button did nothing (%q, %v)", copied, err)
	}
	label, _ := chromedp.Run(ctx, chromedp.Text(webtest.TestID("copy-new-api-key-value")))
	key, _ := chromedp.Run(ctx, chromedp.Text(`#new-api-key-value`))
	want := map[string]string{"true": "Copied", "false": "Press Ctrl+C to copy"}[copied]
	if label != want || key == "" {
		t.Errorf("after Copy the button reads %q (copied=%s), want %q", label, copied, want)
	}
}
