package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/automations-dev/automations/web"
)

func TestSessionAndProxySettings(t *testing.T) {
	cfg, err := web.LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SessionIdleTimeout != 72*time.Hour || cfg.SessionMaxAge != 720*time.Hour || len(cfg.TrustedProxies) != 0 {
		t.Fatalf("defaults: idle %v, max age %v, proxies %v", cfg.SessionIdleTimeout, cfg.SessionMaxAge, cfg.TrustedProxies)
	}
	t.Setenv("SESSION_IDLE_TIMEOUT", "30m")
	t.Setenv("SESSION_MAX_AGE", "12h")
	t.Setenv("TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7")
	cfg, err = web.LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SessionIdleTimeout != 30*time.Minute || cfg.SessionMaxAge != 12*time.Hour || len(cfg.TrustedProxies) != 2 {
		t.Fatalf("set: idle %v, max age %v, proxies %v", cfg.SessionIdleTimeout, cfg.SessionMaxAge, cfg.TrustedProxies)
	}
	for env, bad := range map[string]string{"TRUSTED_PROXIES": "10.0.0.0/33", "SESSION_IDLE_TIMEOUT": "0s"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, bad)
			if _, err := web.LoadConfig(); err == nil || !strings.Contains(err.Error(), env) {
				t.Fatalf("%s=%s: %v, want an error naming it", env, bad, err)
			}
		})
	}
}
