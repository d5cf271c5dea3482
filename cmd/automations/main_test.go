package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/automations-dev/automations/models"
	"github.com/automations-dev/automations/models/modeltest"
)

var binary string

// TestMain builds the real binary once; the tests run it as operators do.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "automations-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "automations")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cli runs the binary against db and returns stdout, stderr and the exit code.
func cli(t *testing.T, db modeltest.Database, extraEnv []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+db.URL, "DATA_DIR="+db.DataDir)
	cmd.Env = append(cmd.Env, extraEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), code
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestAdminCommands(t *testing.T) {
	db := modeltest.New(t)
	out, errOut, code := cli(t, db, nil, "admin", "create", "--email", "Ada@Example.com", "--password", "correct horse", "--name", "Ada")
	if code != 0 || !strings.Contains(out, "ada@example.com") {
		t.Fatalf("admin create: code %d, %q %q", code, out, errOut)
	}
	_, errOut, code = cli(t, db, nil, "admin", "create", "--email", "ada@example.com", "--password", "correct horse")
	if code == 0 || !strings.Contains(errOut, "already exists") {
		t.Fatalf("duplicate admin create: code %d, stderr %q", code, errOut)
	}
	_, errOut, code = cli(t, db, nil, "admin", "create", "--email", "bob@example.com", "--password", "short")
	if code == 0 || !strings.Contains(errOut, "at least 8") {
		t.Fatalf("short password: code %d, stderr %q", code, errOut)
	}
	out, _, code = cli(t, db, nil, "admin", "api-key", "--email", "ada@example.com")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	key := lines[len(lines)-1]
	if code != 0 || !strings.HasPrefix(key, "ak_") || strings.Contains(key, " ") {
		t.Fatalf("api-key: code %d, last line %q", code, key)
	}
	_, _, code = cli(t, db, nil, "admin", "api-key", "--email", "nobody@example.com")
	if code == 0 {
		t.Fatal("api-key for an unknown email succeeded")
	}
	out, _, code = cli(t, db, nil, "migrate")
	if code != 0 || !strings.Contains(out, "applied 0 migration") {
		t.Fatalf("migrate on a migrated database: code %d, %q", code, out)
	}

	// The key works against a served instance on the same database.
	port := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	serve := exec.Command(binary, "serve")
	serve.Env = append(os.Environ(), "DATABASE_URL="+db.URL, "DATA_DIR="+db.DataDir, fmt.Sprintf("PORT=%d", port))
	stderr, _ := serve.StderrPipe()
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { serve.Process.Kill(); serve.Wait() })
	waitForLog(t, stderr, "serving")
	req, _ := http.NewRequest("POST", base+"/api/v1/teams", strings.NewReader(`{"name":"ml"}`))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("create team with the CLI's key: %d", resp.StatusCode)
	}
	// SIGTERM stops it cleanly.
	serve.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- serve.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exited with %v after SIGINT", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30s of SIGINT")
	}
}

// waitForLog reads the process's log until a line contains want.
func waitForLog(t *testing.T, r interface{ Read([]byte) (int, error) }, want string) {
	t.Helper()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if strings.Contains(sc.Text(), want) {
			go func() {
				for sc.Scan() {
				}
			}()
			return
		}
	}
	t.Fatalf("process ended before logging %q", want)
}

// A fresh machine: no DATABASE_URL, nothing configured. serve creates the
// embedded database and keys under DATA_DIR, tells how to create the first
// admin, and /healthz answers.
func TestServeOnAFreshDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	port := freePort(t)
	cmd := exec.Command(binary, "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL=", "DATA_DIR="+dir, fmt.Sprintf("PORT=%d", port))
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitForLog(t, stdout, "admin create --email")
	waitForLog(t, stderr, "serving")
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", port))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}
	for _, f := range []string{"automations.db", "secret_key", "encryption_key"} {
		info, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatalf("%s not created: %v", f, err)
		}
		if f != "automations.db" && info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, info.Mode().Perm())
		}
	}
}

// `user create` makes an ordinary (not site-admin) user who can sign in; a
// taken email exits non-zero with a message.
func TestUserCreateCommand(t *testing.T) {
	db := modeltest.New(t)
	out, errOut, code := cli(t, db, nil, "user", "create", "--email", "Bo@Example.com", "--password", "correct horse", "--name", "Bo")
	if code != 0 || !strings.Contains(out, "created user bo@example.com") {
		t.Fatalf("user create: code %d, %q %q", code, out, errOut)
	}
	u, err := models.Authenticate(context.Background(), db.DB, "bo@example.com", "correct horse")
	if err != nil || u.SiteAdmin || u.Name != "Bo" || u.State != models.UserActive {
		t.Fatalf("created user: %+v, %v", u, err)
	}
	_, errOut, code = cli(t, db, nil, "user", "create", "--email", "bo@example.com", "--password", "another one")
	if code == 0 || !strings.Contains(errOut, "already exists") {
		t.Fatalf("duplicate user create: code %d, stderr %q", code, errOut)
	}
	_, errOut, code = cli(t, db, nil, "user", "create", "--email", "cy@example.com")
	if code != 2 || !strings.Contains(errOut, "--password") {
		t.Fatalf("user create without a password: code %d, stderr %q", code, errOut)
	}
	if _, err := models.UserByEmail(context.Background(), db.DB, "cy@example.com"); err == nil {
		t.Fatal("user create without a password made a user")
	}
}
