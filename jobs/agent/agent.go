// Package agent is the reference launch agent (`automations agent`): it
// polls a queue through the JSON API, runs a command per run-queue item
// with the item's config in a JSON file, heartbeats while the command runs
// and reports how it ended.
package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config says which queue to poll and what to run.
type Config struct {
	URL    string // the server's base URL
	APIKey string // an API key of a member of the queue's team
	Team   string
	Queue  string
	// Name identifies this agent in claims and reports; default host-pid.
	Name    string
	Command []string
	// PollInterval is the wait after finding the queue empty (default 2s).
	PollInterval time.Duration
	// HeartbeatInterval is how often a running item is reported running;
	// default a third of the lease the server grants.
	HeartbeatInterval time.Duration
	// StopGrace is how long the command gets after SIGTERM before it is
	// killed, when the agent stops (default 10s).
	StopGrace time.Duration
	// Stdout and Stderr receive the command's output (default the agent's).
	Stdout, Stderr io.Writer
	Logger         *slog.Logger
	// HTTPClient talks to the server (default: 30s timeout).
	HTTPClient *http.Client
}

// StoppedMessage is the failure message of an item whose command was
// stopped because the agent was told to stop.
const StoppedMessage = "agent stopped"

// Run polls and runs items until ctx ends (SIGTERM, SIGINT): then it stops
// claiming, sends SIGTERM to a running command, reports its item failed
// with StoppedMessage and returns nil. It returns an error only when it
// cannot work at all (bad configuration, key refused, unknown queue).
func Run(ctx context.Context, cfg Config) error {
	a, err := newAgent(cfg)
	if err != nil {
		return err
	}
	a.log.Info("agent started", "queue", cfg.Team+"/"+cfg.Queue, "name", a.cfg.Name, "url", cfg.URL)
	for ctx.Err() == nil {
		item, err := a.api.claim(ctx, cfg.Team, cfg.Queue, a.cfg.Name)
		switch {
		case ctx.Err() != nil:
		case err != nil && !retryable(err):
			return fmt.Errorf("claim from queue %s/%s: %w", cfg.Team, cfg.Queue, err)
		case err != nil:
			a.log.Warn("claim failed; trying again", "err", err)
			sleep(ctx, a.cfg.PollInterval)
		case item == nil:
			sleep(ctx, a.cfg.PollInterval)
		default:
			a.runItem(ctx, item)
		}
	}
	a.log.Info("agent stopped")
	return nil
}

type agent struct {
	cfg Config
	api *client
	log *slog.Logger
	run *JobRun // the run of the item being run, nil when none
}

func newAgent(cfg Config) (*agent, error) {
	switch {
	case cfg.URL == "":
		return nil, errors.New("agent: the server URL is required")
	case cfg.APIKey == "":
		return nil, errors.New("agent: an API key is required")
	case cfg.Team == "" || cfg.Queue == "":
		return nil, errors.New("agent: the queue is required as TEAM/QUEUE")
	case len(cfg.Command) == 0:
		return nil, errors.New("agent: a command to run is required")
	}
	if cfg.Name == "" {
		host, _ := os.Hostname()
		cfg.Name = host + "-" + strconv.Itoa(os.Getpid())
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 2 * time.Second
	}
	if cfg.StopGrace <= 0 {
		cfg.StopGrace = 10 * time.Second
	}
	if cfg.Stdout == nil {
		cfg.Stdout = os.Stdout
	}
	if cfg.Stderr == nil {
		cfg.Stderr = os.Stderr
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	api := &client{base: strings.TrimRight(cfg.URL, "/"), key: cfg.APIKey, http: cfg.HTTPClient}
	return &agent{cfg: cfg, api: api, log: cfg.Logger}, nil
}

// APIKeyEnv is the variable the agent reads its API key from by default.
const APIKeyEnv = "AUTOMATIONS_API_KEY"

// jobEnvironment is the agent's environment without its API key: a job is
// code from whoever logged the job version, and the key would let it act
// on the server as the agent's user. Any variable whose value holds the key
// (however it got there) goes too.
func jobEnvironment(environ []string, apiKey string) []string {
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		if name == APIKeyEnv || (apiKey != "" && strings.Contains(value, apiKey)) {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// heartbeatEvery is the interval between running reports for item.
func (a *agent) heartbeatEvery(item *Item) time.Duration {
	if a.cfg.HeartbeatInterval > 0 {
		return a.cfg.HeartbeatInterval
	}
	if item.LeaseSeconds > 0 {
		return max(time.Duration(item.LeaseSeconds*float64(time.Second))/3, 100*time.Millisecond)
	}
	return 20 * time.Second
}

// runItem runs the command for one claimed item and reports the outcome.
func (a *agent) runItem(ctx context.Context, item *Item) {
	log := a.log.With("item", item.ID, "job", item.Job+":"+item.JobVersion)
	log.Info("claimed item")
	configFile, err := writeConfig(item)
	if err != nil {
		a.finish(ctx, log, item, failed(nil, "write the config file: "+err.Error()))
		return
	}
	defer os.Remove(configFile)
	// The run is a convenience for chaining: a job still runs without one
	// (the agent's user may not log runs in the destination project).
	run, err := a.api.startRun(ctx, item)
	if err != nil {
		log.Warn("could not start a run for the item; running the job without one", "project", item.DestinationProject, "err", err)
		run = nil
	}
	running := Report{State: "running", Agent: a.cfg.Name}
	if run != nil {
		running.RunID = &run.ID
	}
	a.run = run
	defer func() { a.run = nil }()
	if err := a.api.report(ctx, item.ID, running); err != nil {
		if statusOf(err) == http.StatusConflict || statusOf(err) == http.StatusNotFound {
			log.Warn("item is no longer ours; skipping it", "err", err)
			return
		}
		// The heartbeats will try again.
		log.Warn("report running failed", "err", err)
	}

	cmd := exec.Command(a.cfg.Command[0], a.cfg.Command[1:]...)
	cmd.Env = append(jobEnvironment(os.Environ(), a.cfg.APIKey),
		"LAUNCH_ITEM_ID="+strconv.FormatInt(item.ID, 10),
		"LAUNCH_JOB="+item.Job,
		"LAUNCH_JOB_VERSION="+item.JobVersion,
		"LAUNCH_PROJECT="+item.DestinationProject,
		"LAUNCH_CONFIG_FILE="+configFile,
		"LAUNCH_SERVER_URL="+strings.TrimRight(a.cfg.URL, "/"),
	)
	if run != nil {
		// The run's token lets the job log this run only, never act as the agent.
		cmd.Env = append(cmd.Env, "LAUNCH_RUN_ID="+strconv.FormatInt(run.ID, 10), "LAUNCH_RUN_TOKEN="+run.Token, "LAUNCH_RUN_URL="+run.URL)
	}
	tail := &tailBuffer{max: 2048}
	cmd.Stdout = a.cfg.Stdout
	cmd.Stderr = io.MultiWriter(a.cfg.Stderr, tail)
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		a.finish(ctx, log, item, failed(nil, "start the command: "+err.Error()))
		return
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	heartbeat := time.NewTicker(a.heartbeatEvery(item))
	defer heartbeat.Stop()
	for {
		select {
		case err := <-done:
			a.finish(ctx, log, item, outcome(err, tail.lastLine()))
			return
		case <-heartbeat.C:
			err := a.api.report(ctx, item.ID, running)
			if run != nil {
				if herr := a.api.runHeartbeat(ctx, run.ID); herr != nil && ctx.Err() == nil {
					log.Warn("run heartbeat failed", "run", run.ID, "err", herr)
				}
			}
			if s := statusOf(err); s == http.StatusConflict || s == http.StatusNotFound {
				// Another agent has it now: stop our copy, report nothing.
				log.Warn("lost the item's lease; stopping the command", "err", err)
				a.stop(cmd, done)
				return
			}
			if err != nil && ctx.Err() == nil {
				log.Warn("heartbeat failed", "err", err)
			}
		case <-ctx.Done():
			log.Info("stopping: sending SIGTERM to the command")
			a.stop(cmd, done)
			a.finish(ctx, log, item, failed(nil, StoppedMessage))
			return
		}
	}
}

// stop sends SIGTERM to the command's process group, then SIGKILL after
// StopGrace, and waits for it to exit.
func (a *agent) stop(cmd *exec.Cmd, done <-chan error) {
	terminate(cmd)
	t := time.NewTimer(a.cfg.StopGrace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		kill(cmd)
		<-done
	}
}

// finish reports the final state, retrying transient failures for a while
// (also after ctx ended: the report is the last thing the agent does).
func (a *agent) finish(ctx context.Context, log *slog.Logger, item *Item, r Report) {
	r.Agent = a.cfg.Name
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if a.run != nil {
		// The run ends as the item does: finished on exit code 0, else failed.
		if err := a.api.endRun(rctx, a.run.ID, r.State); err != nil {
			log.Warn("could not end the item's run", "run", a.run.ID, "err", err)
		}
		r.RunID = &a.run.ID
	}
	wait := 500 * time.Millisecond
	for {
		err := a.api.report(rctx, item.ID, r)
		if err == nil {
			log.Info("item "+r.State, "exit_code", exitCodeText(r.ExitCode), "message", r.Message)
			return
		}
		if !retryable(err) || rctx.Err() != nil {
			log.Error("could not report the item's end; its lease will expire and it may run again", "state", r.State, "err", err)
			return
		}
		log.Warn("report failed; trying again", "err", err)
		sleep(rctx, wait)
		wait = min(wait*2, 5*time.Second)
	}
}

func writeConfig(item *Item) (string, error) {
	f, err := os.CreateTemp("", "launch-item-"+strconv.FormatInt(item.ID, 10)+"-*.json")
	if err != nil {
		return "", err
	}
	config := item.Config
	if len(config) == 0 {
		config = []byte("{}")
	}
	if _, err := f.Write(append(config, '\n')); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

func failed(code *int, message string) Report {
	return Report{State: "failed", ExitCode: code, Message: message}
}

// outcome turns the command's exit into a report: exit code 0 is
// finished, anything else failed with the code and the last line of stderr.
func outcome(err error, lastLine string) Report {
	if err == nil {
		zero := 0
		return Report{State: "finished", ExitCode: &zero}
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return failed(nil, "run the command: "+err.Error())
	}
	code := ee.ExitCode()
	msg := "exit code " + strconv.Itoa(code)
	if code < 0 {
		msg = "the command was killed: " + ee.String()
	}
	if lastLine != "" {
		msg += ": " + lastLine
	}
	return failed(&code, msg)
}

func exitCodeText(code *int) string {
	if code == nil {
		return "none"
	}
	return strconv.Itoa(*code)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

// lastLine is the last non-empty line written, at most 500 bytes.
func (t *tailBuffer) lastLine() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(string(t.buf)), "\n")
	line := strings.TrimSpace(lines[len(lines)-1])
	if len(line) > 500 {
		line = line[:500]
	}
	return line
}
