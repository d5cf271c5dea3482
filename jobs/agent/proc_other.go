//go:build !linux

package agent

import (
	"os"
	"os/exec"
)

// setProcessGroup is Linux only; elsewhere the command is signalled alone.
func setProcessGroup(*exec.Cmd) {}

func terminate(cmd *exec.Cmd) {
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		_ = cmd.Process.Kill()
	}
}

func kill(cmd *exec.Cmd) { _ = cmd.Process.Kill() }
