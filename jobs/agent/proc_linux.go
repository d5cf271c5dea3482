//go:build linux

package agent

import (
	"os/exec"
	"syscall"
)

// setProcessGroup starts the command in its own process group, so stopping
// it reaches its children too (sh -c …) and a Ctrl-C meant for the agent
// does not hit it first; Pdeathsig stops it if the agent itself is killed.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

func terminate(cmd *exec.Cmd) { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }

func kill(cmd *exec.Cmd) { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
