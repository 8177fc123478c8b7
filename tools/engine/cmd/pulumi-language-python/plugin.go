package main

import (
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
)

// RunPlugin runs a plugin written in Python: the CLI uses it for every Python policy pack (PulumiPolicy.yaml with
// `runtime: python`) and for Python providers (PulumiPlugin.yaml). A policy pack runs as upstream runs it,
// `python -u -m pulumi.policy ARGS... PACK_DIR` (the module ships with the Pulumi SDK in the pack's virtualenv);
// other plugins run the directory's __main__.py.
func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	if req.GetAttachDebugger() {
		return errors.New("pulumi-language-python (gitpod-cell minimal host): attaching a debugger is not supported")
	}
	opts, err := parseOptions(req.GetInfo())
	if err != nil {
		return err
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return err
	}
	ctx := server.Context()

	var mu sync.Mutex
	send := func(msg *pulumirpc.RunPluginResponse) error {
		mu.Lock()
		defer mu.Unlock()
		return server.Send(msg)
	}
	stderr := &pluginStream{send: func(b []byte) error {
		return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}})
	}}
	stdout := &pluginStream{send: func(b []byte) error {
		return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}})
	}}

	// A pack's virtualenv is created from its requirements.txt on first use, as upstream does. Its output goes to
	// stderr: the CLI reads the plugin's first stdout line as the port to dial.
	if err := tc.EnsureVenv(ctx, req.GetInfo().GetProgramDirectory(), false, true, stderr, stderr); err != nil {
		return err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return err
	}

	programDir := req.GetInfo().GetProgramDirectory()
	var args []string
	if req.GetKind() == "analyzer" {
		args = append(append([]string{"-u", "-m", "pulumi.policy"}, req.GetArgs()...), programDir)
	} else {
		args = append([]string{"-u", programDir}, req.GetArgs()...)
	}
	cmd, err := tc.Command(ctx, args...)
	if err != nil {
		return err
	}
	// The CLI sends the whole environment the plugin must see (its own plus per-plugin variables).
	cmd.Env = req.GetEnv()
	if venv, err := tc.VirtualEnvPath(ctx); err == nil && venv != "" {
		cmd.Env = toolchain.ActivateVirtualEnv(req.GetEnv(), venv)
	}
	cmd.Dir = req.GetPwd()
	cmd.Stdout = stdout
	cmd.Stderr = stderr

	code := int32(0)
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return fmt.Errorf("could not run the %s plugin in %s: %w", req.GetKind(), programDir, err)
		}
		code = int32(exitErr.ExitCode())
	}
	return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: code}})
}

type pluginStream struct {
	send func([]byte) error
}

var _ io.Writer = (*pluginStream)(nil)

func (s *pluginStream) Write(p []byte) (int, error) {
	if err := s.send(append([]byte{}, p...)); err != nil {
		return 0, err
	}
	return len(p), nil
}
