package webtest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// NewBrowser starts headless Chromium (Debian's package; CHROMIUM_PATH
// overrides /usr/bin/chromium) for one test. The returned context drives a
// tab; every action under it times out after two minutes.
func NewBrowser(t testing.TB) context.Context {
	t.Helper()
	return NewBrowserFor(t, 2*time.Minute)
}

// NewBrowserFor is NewBrowser for a test that drives the tab longer (every
// screen in turn): its actions time out after limit in all.
func NewBrowserFor(t testing.TB, limit time.Duration) context.Context {
	t.Helper()
	path := os.Getenv("CHROMIUM_PATH")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("chromium not found at %s (the test command installs it): %v", path, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1200, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, limit)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// SignIn signs in through the login page in the browser.
func (a *App) SignIn(t testing.TB, ctx context.Context, email string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.URL+"/login"),
		chromedp.WaitVisible(TestID("login-form")),
		chromedp.SendKeys(TestID("field-email"), email),
		chromedp.SendKeys(TestID("field-password"), Password),
		ClickNav(TestID("sign-in")),
		chromedp.WaitVisible(TestID("nav")),
	)
	if err != nil {
		t.Fatalf("sign in as %s in the browser: %v", email, err)
	}
}

// TestID selects the first element with data-testid=id.
func TestID(id string) chromedp.CSS {
	return chromedp.CSS(`[data-testid="` + id + `"]`)
}

// ClickNav clicks something that navigates (a link, the submit button of a
// plain form, or an htmx form answered with HX-Redirect) and waits until the
// new page has loaded, so later queries never race the old document being
// replaced.
func ClickNav[S chromedp.Selectable](sel S) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.RunResponse(ctx, chromedp.Click(sel))
		return err
	})
}

// Do runs steps one at a time, each with a 30-second limit, and on failure
// fails the test naming the step and showing the page as it was.
func Do(t testing.TB, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	for i, step := range steps {
		stepCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := chromedp.Do(stepCtx, step)
		cancel()
		if err != nil {
			loc, _ := chromedp.Run(ctx, chromedp.Location())
			html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.outerHTML : ""`))
			t.Fatalf("%s, step %d: %v\nat %s\n%s", what, i+1, err, loc, html)
		}
	}
}

// HtmxIdle waits until htmx has no request in flight and no swap settling,
// so the next query finds the nodes that stay.
func HtmxIdle() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](`!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')`))
		return err
	})
}
