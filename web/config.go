// Package web assembles the server: configuration, routes, middleware
// (session, CSRF, auth, role checks, request logging, recovery) and the
// embedded static files.
package web

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// Config is read once from the environment (12-factor) and passed down as values.
type Config struct {
	Port        int    `env:"PORT" envDefault:"8080"`
	DatabaseURL string `env:"DATABASE_URL"`
	DataDir     string `env:"DATA_DIR" envDefault:"./data"`
	OrgName     string `env:"ORG_NAME" envDefault:"org"`
	BaseURL     string `env:"BASE_URL"`
	// SecretKey signs session and CSRF cookies; generated under DataDir when unset.
	SecretKey string `env:"SECRET_KEY"`
	// EncryptionKey (base64, 32 bytes) encrypts secrets at rest; generated
	// under DataDir when unset. SecretsKeeperURL (base64key://, or a cloud
	// keeper such as awskms://… in a build with -tags kms) takes precedence.
	EncryptionKey    string   `env:"ENCRYPTION_KEY"`
	SecretsKeeperURL string   `env:"SECRETS_KEEPER_URL"`
	AllowedTargets   []string `env:"ALLOWED_TARGETS" envSeparator:","`

	SlackClientID     string `env:"SLACK_CLIENT_ID"`
	SlackClientSecret string `env:"SLACK_CLIENT_SECRET"`
	SlackAPIURL       string `env:"SLACK_API_URL" envDefault:"https://slack.com"`

	// OpenID Connect single sign-on: on when all three are set (see OIDCConfigured).
	OIDCIssuerURL    string `env:"OIDC_ISSUER_URL"`
	OIDCClientID     string `env:"OIDC_CLIENT_ID"`
	OIDCClientSecret string `env:"OIDC_CLIENT_SECRET"`
	// OIDCAllowedDomains are the email domains whose unknown users single
	// sign-on creates; anyone else needs an account or an invitation first.
	OIDCAllowedDomains []string `env:"OIDC_ALLOWED_DOMAINS" envSeparator:","`
	// PasswordLogin (PASSWORD_LOGIN=false) can leave single sign-on as the
	// only way in; on unless turned off, also in a Config built in code.
	PasswordLogin Switch `env:"PASSWORD_LOGIN"`
	// SMTPURL (smtp://user:pass@host:port) turns on mailing invitation
	// links; SMTPFrom is their sender.
	SMTPURL  string `env:"SMTP_URL"`
	SMTPFrom string `env:"SMTP_FROM" envDefault:"automations@localhost"`

	WorkerConcurrency int `env:"WORKER_CONCURRENCY" envDefault:"16"`
	// WorkerLease is how long a claim holds without renewal: the worker
	// renews it every third of it while the attempt runs, so if it dies
	// mid-attempt, another worker takes the delivery within about this.
	WorkerLease time.Duration `env:"WORKER_LEASE" envDefault:"10s"`
	// RetrySchedule is the wait after each failed attempt, e.g. "10s,30s,2m"; empty: jobs.DefaultRetrySchedule.
	RetrySchedule   string        `env:"RETRY_SCHEDULE"`
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"20s"`
	// LaunchLease is how long a claimed run-queue item stays with its agent
	// without a heartbeat; after that another agent may claim it.
	LaunchLease time.Duration `env:"LAUNCH_LEASE" envDefault:"60s"`
	LogLevel    string        `env:"LOG_LEVEL" envDefault:"info"`

	// SessionIdleTimeout ends a browser session this long after its last
	// request; SessionMaxAge ends it this long after sign-in regardless.
	SessionIdleTimeout time.Duration `env:"SESSION_IDLE_TIMEOUT" envDefault:"72h"`
	SessionMaxAge      time.Duration `env:"SESSION_MAX_AGE" envDefault:"720h"`
	// TrustedProxies are the CIDRs (or single addresses) of reverse proxies
	// whose X-Forwarded-For names the client. Empty: the TCP peer is the client.
	TrustedProxies []string `env:"TRUSTED_PROXIES" envSeparator:","`
	// LogFormat is json (one JSON object per line, for log pipelines) or text.
	LogFormat string `env:"LOG_FORMAT" envDefault:"json"`
	// MetricsToken, when set, must come as Authorization: Bearer on GET /metrics.
	MetricsToken string `env:"METRICS_TOKEN"`
	// RunHeartbeatTimeout: a running run that sent no heartbeat or history
	// for this long is marked crashed (and fires RUN_STATE as failed).
	RunHeartbeatTimeout time.Duration `env:"RUN_HEARTBEAT_TIMEOUT" envDefault:"10m"`
	// Delivery operations (DESIGN.md §15): the endpoint health policy and
	// how long finished deliveries are kept (0: forever). See config_ops.go.
	EndpointDisableAfter       Days `env:"ENDPOINT_DISABLE_AFTER" envDefault:"72h"`
	EndpointDisableMinFailures int  `env:"ENDPOINT_DISABLE_MIN_FAILURES" envDefault:"20"`
	DeliveryRetention          Days `env:"DELIVERY_RETENTION" envDefault:"30d"`
}

// DefaultLaunchLease is LAUNCH_LEASE's default, used when a Config built in
// code leaves LaunchLease zero.
const DefaultLaunchLease = 60 * time.Second

// LoadConfig parses the environment.
func LoadConfig() (Config, error) {
	cfg, err := env.ParseAs[Config]()
	if err != nil {
		return Config{}, fmt.Errorf("read configuration: %w", err)
	}
	var allowed []string
	for _, t := range cfg.AllowedTargets {
		if t = strings.TrimSpace(t); t != "" {
			allowed = append(allowed, t)
		}
	}
	cfg.AllowedTargets = allowed
	if cfg.LaunchLease < time.Second {
		return Config{}, fmt.Errorf("LAUNCH_LEASE must be at least 1s, not %s", cfg.LaunchLease)
	}
	if cfg.SessionIdleTimeout <= 0 || cfg.SessionMaxAge <= 0 {
		return Config{}, errors.New("SESSION_IDLE_TIMEOUT and SESSION_MAX_AGE must be positive durations, e.g. 72h")
	}
	if _, err := trustedProxyRanges(cfg.TrustedProxies); err != nil {
		return Config{}, err
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.BaseURL == "" {
		cfg.BaseURL = fmt.Sprintf("http://localhost:%d", cfg.Port)
	}
	if err := cfg.checkSignIn(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// SecureCookies is true when the site is served over https.
func (c Config) SecureCookies() bool { return strings.HasPrefix(c.BaseURL, "https://") }

// Keys are the secret keys the server needs, from config or DataDir.
type Keys struct {
	Session    []byte // HMAC key for cookies
	Encryption []byte // 32-byte key for secrets at rest
	// Generated lists the key files created on this start.
	Generated []string
}

// LoadKeys returns SECRET_KEY and ENCRYPTION_KEY, creating random ones under
// DataDir on first start when they are not configured (a single node keeps
// them across restarts; a cluster must configure both).
func LoadKeys(cfg Config) (Keys, error) {
	var k Keys
	secret := cfg.SecretKey
	if secret == "" {
		s, created, err := keyFile(filepath.Join(cfg.DataDir, "secret_key"), func(b []byte) string { return hex.EncodeToString(b) }, 32)
		if err != nil {
			return k, err
		}
		secret = s
		if created {
			k.Generated = append(k.Generated, "secret_key")
		}
	}
	if len(secret) < 16 {
		return k, errors.New("SECRET_KEY must be at least 16 characters")
	}
	k.Session = []byte(secret)
	enc := cfg.EncryptionKey
	if enc == "" && cfg.SecretsKeeperURL == "" {
		s, created, err := keyFile(filepath.Join(cfg.DataDir, "encryption_key"), base64.StdEncoding.EncodeToString, 32)
		if err != nil {
			return k, err
		}
		enc = s
		if created {
			k.Generated = append(k.Generated, "encryption_key")
		}
	}
	if enc != "" {
		raw, err := base64.StdEncoding.DecodeString(enc)
		if err != nil || len(raw) != 32 {
			return k, errors.New("ENCRYPTION_KEY must be 32 bytes in standard base64 (e.g. `openssl rand -base64 32`)")
		}
		k.Encryption = raw
	}
	return k, nil
}

func keyFile(path string, encode func([]byte) string, size int) (string, bool, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", false, fmt.Errorf("read key %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", false, fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	raw := make([]byte, size)
	if _, err := rand.Read(raw); err != nil {
		return "", false, fmt.Errorf("generate key: %w", err)
	}
	s := encode(raw)
	// O_EXCL: if another process created it first, use theirs.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return keyFile(path, encode, size)
	}
	if err != nil {
		return "", false, fmt.Errorf("write key %s: %w", path, err)
	}
	defer f.Close()
	if _, err := f.WriteString(s + "\n"); err != nil {
		return "", false, fmt.Errorf("write key %s: %w", path, err)
	}
	return s, true, nil
}
