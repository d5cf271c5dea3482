// Command automations is the whole product in one binary: the web server
// with its delivery worker, a worker alone, migrations, admin tasks and the
// launch agent.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gorm.io/gorm"

	"github.com/automations-dev/automations/jobs"
	"github.com/automations-dev/automations/jobs/agent"
	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/people"
	"github.com/automations-dev/automations/web"
)

const usage = `usage: automations <command> [flags]

commands:
  serve                                   web server and in-process delivery worker (migrates first)
  worker                                  delivery worker only (a Procfile worker: line)
  migrate                                 apply pending database migrations and exit
  admin create --email E --password P [--name N]
                                          create a site admin
  admin api-key --email E [--name N]      mint an API key; the key alone is the last line of output
  admin reset-password --email E --password P
  user create --email E --password P [--name N]
                                          create an ordinary (not site-admin) user
  backup --to FILE                        copy the embedded database online (consistent); PostgreSQL: use pg_dump
  agent --queue TEAM/QUEUE --url URL --api-key K [--name N] [--poll 2s] -- CMD [ARGS]
                                          launch agent: claim items of the queue and run CMD for each,
                                          with LAUNCH_ITEM_ID, LAUNCH_JOB, LAUNCH_JOB_VERSION, LAUNCH_PROJECT
                                          and LAUNCH_CONFIG_FILE set (never the API key); --api-key defaults to $AUTOMATIONS_API_KEY

environment: DATABASE_URL (unset: embedded database under DATA_DIR, default ./data), PORT (8080),
ALLOWED_TARGETS, BASE_URL, ORG_NAME, SECRET_KEY, ENCRYPTION_KEY; see README.md.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cfg, err := web.LoadConfig()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	log := newLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	switch args[0] {
	case "serve":
		err = serve(ctx, cfg, log, stdout)
	case "worker":
		err = worker(ctx, cfg, log)
	case "migrate":
		err = migrate(ctx, cfg, log, stdout)
	case "admin":
		err = admin(ctx, cfg, args[1:], stdout)
	case "user":
		err = user(ctx, cfg, args[1:], stdout)
	case "agent":
		err = runAgent(ctx, args[1:], stdout, stderr, log)
	case "backup":
		err = backup(ctx, cfg, args[1:], stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "%s\n\n%s", ue.msg, usage)
			return 2
		}
		fmt.Fprintln(stderr, "automations:", err)
		return 1
	}
	return 0
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// newLogger writes JSON lines (LOG_FORMAT=json, the default: log
// pipelines can filter on delivery_id and other fields) or text.
func newLogger(w io.Writer, level, format string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: l}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// openDB opens the configured database and applies pending migrations.
func openDB(ctx context.Context, cfg web.Config) (*gorm.DB, error) {
	db, err := models.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if _, err := models.Migrate(ctx, db); err != nil {
		return nil, err
	}
	return db, nil
}

func closeDB(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		sqlDB.Close()
	}
}

func migrate(ctx context.Context, cfg web.Config, log *slog.Logger, stdout io.Writer) error {
	db, err := models.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return err
	}
	defer closeDB(db)
	n, err := models.Migrate(ctx, db)
	if err != nil {
		return err
	}
	if err := web.RedactStoredAttempts(ctx, cfg, db, log); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "applied %d migration(s) on %s\n", n, models.Dialect(db))
	return nil
}

func serve(ctx context.Context, cfg web.Config, log *slog.Logger, stdout io.Writer) error {
	keys, err := web.LoadKeys(cfg)
	if err != nil {
		return err
	}
	for _, k := range keys.Generated {
		log.Info("generated a key; keep DATA_DIR to keep sessions and secrets", "file", cfg.DataDir+"/"+k)
	}
	if cfg.DatabaseURL != "" && len(keys.Generated) > 0 {
		log.Warn("DATABASE_URL is set but SECRET_KEY/ENCRYPTION_KEY are not: every node must share them, set both")
	}
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeDB(db)
	if err := web.RedactStoredAttempts(ctx, cfg, db, log); err != nil {
		return err
	}
	if n, err := models.CountUsers(ctx, db); err == nil && n == 0 {
		fmt.Fprintf(stdout, "No users yet. Create the first site admin with:\n  go run ./cmd/automations admin create --email you@example.com --password 'a long password'\n")
	}
	srv, err := web.New(cfg, keys, db, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := srv.Close(); err != nil {
			log.Error("close web server resources", "err", err)
		}
	}()
	// The in-process delivery worker; WORKER_CONCURRENCY=0 makes a web-only
	// process (deliveries then need a `worker`).
	runnerCtx, stopRunner := context.WithCancel(context.Background())
	defer stopRunner()
	runnerDone := make(chan error, 1)
	var runner *web.Worker
	if cfg.WorkerConcurrency > 0 {
		if runner, err = web.NewWorker(ctx, cfg, keys, db, log, web.WithMetrics(srv.Metrics())); err != nil {
			return err
		}
		defer runner.Close()
		unlock, err := takeOverLeases(ctx, cfg, db, log)
		if err != nil {
			return err
		}
		defer unlock()
		go func() { runnerDone <- runner.Run(runnerCtx) }()
		if cfg.DatabaseURL != "" {
			go jobs.ListenForDeliveries(runnerCtx, cfg.DatabaseURL, runner.Runner, log)
		}
	} else {
		log.Info("in-process delivery worker off (WORKER_CONCURRENCY=0)")
		runnerDone <- nil
	}
	srv.SetWake(web.DeliveryWake(runnerCtx, cfg, db, runner, log))
	srv.SetLocalWorker(runner)
	httpServer := &http.Server{
		Addr:              ":" + strconv.Itoa(cfg.Port),
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	ln, err := net.Listen("tcp", httpServer.Addr)
	if err != nil {
		return fmt.Errorf("listen on port %d: %w", cfg.Port, err)
	}
	dbKind := "embedded SQLite in " + cfg.DataDir
	if cfg.DatabaseURL != "" {
		dbKind = "PostgreSQL"
	}
	log.Info("serving", "addr", ln.Addr().String(), "url", cfg.BaseURL, "database", dbKind)
	errc := make(chan error, 1)
	go func() { errc <- httpServer.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	// Shut down in order: stop taking requests, then let in-flight ones finish.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := httpServer.Shutdown(shutdownCtx); err != nil {
		log.Error("shut down http server", "err", err)
	}
	// Then drain the delivery worker: in-flight attempts finish or are
	// recorded as interrupted and retried.
	stopRunner()
	if err := <-runnerDone; err != nil {
		return fmt.Errorf("delivery worker: %w", err)
	}
	log.Info("stopped")
	return nil
}

// worker runs only the delivery worker, for scale-out.
func worker(ctx context.Context, cfg web.Config, log *slog.Logger) error {
	if cfg.WorkerConcurrency < 1 {
		return usageError{"worker needs WORKER_CONCURRENCY of at least 1"}
	}
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeDB(db)
	if err := web.RedactStoredAttempts(ctx, cfg, db, log); err != nil {
		return err
	}
	keys, err := web.LoadKeys(cfg)
	if err != nil {
		return err
	}
	runner, err := web.NewWorker(ctx, cfg, keys, db, log)
	if err != nil {
		return err
	}
	defer runner.Close()
	unlock, err := takeOverLeases(ctx, cfg, db, log)
	if err != nil {
		return err
	}
	defer unlock()
	if cfg.DatabaseURL != "" {
		go jobs.ListenForDeliveries(ctx, cfg.DatabaseURL, runner.Runner, log)
	}
	log.Info("worker started", "concurrency", cfg.WorkerConcurrency)
	if err := runner.Run(ctx); err != nil {
		return fmt.Errorf("delivery worker: %w", err)
	}
	log.Info("worker stopped")
	return nil
}

func admin(ctx context.Context, cfg web.Config, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{"admin needs a subcommand: create, api-key or reset-password"}
	}
	fs := flag.NewFlagSet("admin "+args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	email := fs.String("email", "", "email")
	password := fs.String("password", "", "password")
	name := fs.String("name", "", "name")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if strings.TrimSpace(*email) == "" {
		return usageError{"--email is required"}
	}
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeDB(db)
	switch args[0] {
	case "create":
		if *password == "" {
			return usageError{"--password is required"}
		}
		u, err := models.CreateUser(ctx, db, models.NewUser{Email: *email, Password: *password, Name: *name, SiteAdmin: true})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created site admin %s\n", u.Email)
	case "api-key":
		u, err := models.UserByEmail(ctx, db, *email)
		if err != nil {
			return fmt.Errorf("no user with email %s", *email)
		}
		keyName := *name
		if keyName == "" {
			keyName = "cli"
		}
		key, _, err := models.CreateAPIKey(ctx, db, u.ID, keyName)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "API key for %s (shown once):\n%s\n", u.Email, key)
	case "reset-password":
		u, err := models.UserByEmail(ctx, db, *email)
		if err != nil {
			return fmt.Errorf("no user with email %s", *email)
		}
		// Ends the user's sessions too: a stolen cookie dies with the old password.
		if err := people.ResetPassword(ctx, db, u.ID, *password); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password reset for %s; their sessions are ended\n", u.Email)
	default:
		return usageError{fmt.Sprintf("unknown admin subcommand %q", args[0])}
	}
	return nil
}

// user is `automations user create`: an ordinary account, active at once,
// recorded in the audit log like one a site admin creates.
func user(ctx context.Context, cfg web.Config, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return usageError{"user needs a subcommand: create"}
	}
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	email := fs.String("email", "", "email")
	password := fs.String("password", "", "password")
	name := fs.String("name", "", "name")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if strings.TrimSpace(*email) == "" || *password == "" {
		return usageError{"--email and --password are required"}
	}
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeDB(db)
	u, _, err := people.CreatePerson(ctx, db, nil, people.NewPerson{Email: *email, Password: *password, Name: *name})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created user %s\n", u.Email)
	return nil
}

// runAgent is `automations agent`: it needs no database, only the server's
// URL and an API key of a member of the queue's team.
func runAgent(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	queue := fs.String("queue", "", "TEAM/QUEUE")
	url := fs.String("url", "", "the server's base URL")
	apiKey := fs.String("api-key", os.Getenv(agent.APIKeyEnv), "API key")
	name := fs.String("name", "", "agent name")
	poll := fs.Duration("poll", 2*time.Second, "wait after finding the queue empty")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	team, queueName, ok := strings.Cut(*queue, "/")
	if !ok || team == "" || queueName == "" || strings.Contains(queueName, "/") {
		return usageError{"--queue is required as TEAM/QUEUE"}
	}
	if *url == "" {
		return usageError{"--url is required: the server's base URL, e.g. https://automations.example.com"}
	}
	if *apiKey == "" {
		return usageError{"--api-key (or AUTOMATIONS_API_KEY) is required"}
	}
	if *poll <= 0 {
		return usageError{"--poll must be positive"}
	}
	if fs.NArg() == 0 {
		return usageError{"give the command to run after --: automations agent --queue TEAM/QUEUE ... -- CMD [ARGS]"}
	}
	return agent.Run(ctx, agent.Config{
		URL: *url, APIKey: *apiKey, Team: team, Queue: queueName, Name: *name,
		Command: fs.Args(), PollInterval: *poll,
		Stdout: stdout, Stderr: stderr, Logger: log,
	})
}
