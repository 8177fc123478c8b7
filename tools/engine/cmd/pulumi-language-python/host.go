package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"

	"google.golang.org/protobuf/types/known/emptypb"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
)

// exitAfterUserActionableMessage is the exec shim's exit code for "the error is already shown to the user":
// upstream turns it into a bail (no second, generic error message), and so do we.
const exitAfterUserActionableMessage = 32

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	execScript string
	tracing    string

	mu            sync.Mutex
	engineAddress string
}

func newHost(execScript, engineAddress, tracing string) *host {
	return &host{execScript: execScript, engineAddress: engineAddress, tracing: tracing}
}

func (h *host) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.engineAddress = req.GetEngineAddress()
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) engine() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engineAddress
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// GetRequiredPlugins is the deprecated form of GetRequiredPackages, still used by older CLIs.
func (h *host) GetRequiredPlugins(
	_ context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	opts, err := parseOptions(req.GetInfo())
	if err != nil {
		return nil, err
	}
	packages, err := providerPackages(opts)
	if err != nil {
		return nil, err
	}
	plugins := make([]*pulumirpc.PluginDependency, 0, len(packages))
	for _, p := range packages {
		plugins = append(plugins, &pulumirpc.PluginDependency{
			Name: p.GetName(), Kind: p.GetKind(), Version: p.GetVersion(), Server: p.GetServer(),
		})
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

func (h *host) GetRequiredPackages(
	_ context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	opts, err := parseOptions(req.GetInfo())
	if err != nil {
		return nil, err
	}
	packages, err := providerPackages(opts)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: packages}, nil
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	if req.GetAttachDebugger() {
		return nil, errors.New("pulumi-language-python (gitpod-cell minimal host): attaching a debugger is not supported")
	}
	opts, err := parseOptions(req.GetInfo())
	if err != nil {
		return nil, err
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return nil, fmt.Errorf("%w (in this repository `make venv` creates it)", err)
	}

	cmd, err := tc.Command(ctx, append([]string{"-u", h.execScript}, h.execArguments(req)...)...)
	if err != nil {
		return nil, err
	}
	env, err := programEnv(cmd.Env, req)
	if err != nil {
		return nil, err
	}
	cmd.Env = env
	// The CLI reads this process's stdout/stderr as the program's output.
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if exitErr.ExitCode() == exitAfterUserActionableMessage {
				return &pulumirpc.RunResponse{Bail: true}, nil
			}
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
			}, nil
		}
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("Problem executing program (could not run language executor): %v", err),
		}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// execArguments are the flags pulumi-language-python-exec's argparse reads, then the program and its arguments.
func (h *host) execArguments(req *pulumirpc.RunRequest) []string {
	var args []string
	add := func(flag, value string) {
		if value != "" {
			args = append(args, "--"+flag, value)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.engine())
	add("project", req.GetProject())
	add("root_directory", req.GetInfo().GetRootDirectory())
	add("stack", req.GetStack())
	add("pwd", req.GetPwd())
	add("dry_run", strconv.FormatBool(req.GetDryRun()))
	add("parallel", strconv.Itoa(int(req.GetParallel())))
	add("tracing", h.tracing)
	add("organization", req.GetOrganization())

	program := req.GetInfo().GetEntryPoint()
	if program == "" {
		program = req.GetProgram() //nolint:staticcheck // older CLIs send only the deprecated field
	}
	if program == "" {
		program = "."
	}
	return append(append(args, program), req.GetArgs()...)
}

// programEnv adds the stack's configuration, which the Python SDK reads from PULUMI_CONFIG and
// PULUMI_CONFIG_SECRET_KEYS (pulumi.runtime.get_config_env / get_config_secret_keys_env).
func programEnv(base []string, req *pulumirpc.RunRequest) ([]string, error) {
	if base == nil {
		base = os.Environ()
	}
	env := append([]string{}, base...)
	configMap := req.GetConfig()
	if configMap == nil { // a stack without config: the SDK iterates the map, so "{}" and never "null"
		configMap = map[string]string{}
	}
	config, err := json.Marshal(configMap)
	if err != nil {
		return nil, fmt.Errorf("serializing the stack configuration: %w", err)
	}
	env = append(env, "PULUMI_CONFIG="+string(config))
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	keys, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, fmt.Errorf("serializing the secret configuration keys: %w", err)
	}
	return append(env, "PULUMI_CONFIG_SECRET_KEYS="+string(keys), "PYTHONUNBUFFERED=1"), nil
}

func (h *host) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	opts, err := parseOptions(req.GetInfo())
	if err != nil {
		return nil, err
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return nil, err
	}
	info, err := tc.About(ctx)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{
		Executable: info.PythonExecutable,
		Version:    info.PythonVersion.String(),
		Metadata: map[string]string{
			"toolchainVersion": info.ToolchainVersion.String(),
			"languageHost":     "gitpod-cell minimal host " + version,
		},
	}, nil
}

func (h *host) GetProgramDependencies(
	ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	opts, err := parseOptions(req.GetInfo())
	if err != nil {
		return nil, err
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return nil, err
	}
	packages, err := tc.ListPackages(ctx, req.GetTransitiveDependencies())
	if err != nil {
		return nil, err
	}
	deps := make([]*pulumirpc.DependencyInfo, 0, len(packages))
	for _, p := range packages {
		deps = append(deps, &pulumirpc.DependencyInfo{Name: p.Name, Version: p.Version})
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}

// InstallDependencies creates the virtualenv if needed and installs requirements.txt into it, via the upstream
// toolchain package (what `pulumi install` does upstream). `make venv` normally made it already.
func (h *host) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	if req.GetUseLanguageVersionTools() {
		return errors.New("pulumi-language-python (gitpod-cell minimal host): pyenv/language version tools are " +
			"not supported")
	}
	opts, err := parseOptions(req.GetInfo())
	if err != nil {
		return err
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	send := func(msg *pulumirpc.InstallDependenciesResponse) error {
		mu.Lock()
		defer mu.Unlock()
		return server.Send(msg)
	}
	out := &pluginStream{send: func(b []byte) error { return send(&pulumirpc.InstallDependenciesResponse{Stdout: b}) }}
	errOut := &pluginStream{send: func(b []byte) error { return send(&pulumirpc.InstallDependenciesResponse{Stderr: b}) }}
	dir := req.GetInfo().GetProgramDirectory()
	return tc.InstallDependencies(server.Context(), dir, false, true, out, errOut)
}

func (h *host) RuntimeOptionsPrompts(
	context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

func (h *host) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	// Running programs stop when the CLI cancels their RPC (exec.CommandContext), as upstream's do.
	return &emptypb.Empty{}, nil
}
