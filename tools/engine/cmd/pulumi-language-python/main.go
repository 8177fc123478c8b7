// pulumi-language-python: gitpod-cell's OWN MINIMAL Python language host for the Pulumi CLI.
//
// It is not the upstream host. The upstream module
// (github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3) is not served by the Go module proxy this
// project can reach ("server response: This module version is not available."), so the CLI built by
// `make engine` would otherwise have no way to run a Python program. This host implements the
// LanguageRuntime calls that `pulumi preview/up/destroy/stack output`, the Automation API and Python policy
// packs need, and runs the upstream Python side unchanged: `pulumi-language-python-exec` (copied next to this
// binary from the sdk/v3 module zip at build time) and `python -m pulumi.policy` from the Pulumi SDK in the
// virtualenv. Virtualenvs are resolved by the upstream Go package sdk/v3/python/toolchain.
//
// Upstream behaviour this host omits (each call returns an error or does nothing, never pretends):
//   - type checking before a run (`runtime.options.typechecker`: mypy/pyright): refused with an error;
//   - attaching a debugger (`pulumi up --attach-debugger`): refused with an error;
//   - pyenv/`use language version tools`, `pulumi new` templating/prompts, code generation
//     (convert, package gen-sdk, Pack, Link): not implemented (Unimplemented);
//   - checking that the `pulumi` package in the virtualenv is new enough for the CLI.
//
// GetRequiredPackages reads the `pulumi-plugin.json` files of the packages installed in the virtualenv (the same
// files upstream reads, without running `pip list`), so the CLI knows which provider plugins a program may load.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"google.golang.org/grpc"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// version is set by tools/build-engine.sh (-ldflags -X main.version=...): the CLI version it was built with plus
// build metadata saying it is this minimal host.
var version = "0.0.0+gitpod-cell.minimal-host"

const execScriptName = "pulumi-language-python-exec"

func main() {
	var tracing string
	var showVersion bool
	flag.StringVar(&tracing, "tracing", "", "Emit tracing to a Zipkin-compatible tracing endpoint")
	flag.BoolVar(&showVersion, "version", false, "Print this host's version and exit")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "pulumi-language-python %s: gitpod-cell's own minimal Python "+
			"language host (the upstream module is not served by the Go module proxy).\n"+
			"Started by the Pulumi CLI as: pulumi-language-python [flags] ENGINE_ADDRESS\n"+
			"Omits: typechecker, debugger attach, pyenv, templates, code generation.\n", version)
		flag.PrintDefaults()
	}
	flag.Parse()
	if showVersion {
		fmt.Println(version)
		return
	}
	logging.InitLogging(false, 0, false)
	cmdutil.InitTracing("pulumi-language-python", "pulumi-language-python", tracing)

	execScript, err := findExecScript()
	if err != nil {
		cmdutil.Exit(err)
	}
	var engineAddress string
	if args := flag.Args(); len(args) > 0 {
		engineAddress = args[0]
	}

	// Stop serving on SIGINT (how the CLI shuts plugins down) and when the engine stops answering its health
	// check (the CLI was killed): a host that outlives its engine would be an orphan process.
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	if engineAddress != "" {
		if err := rpcutil.Healthcheck(ctx, engineAddress, 5*time.Minute, cancel); err != nil {
			cmdutil.Exit(fmt.Errorf("could not start the health check of the engine at %s: %w", engineAddress, err))
		}
	}
	stop := make(chan bool)
	go func() {
		<-ctx.Done()
		close(stop)
	}()

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: stop,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, newHost(execScript, engineAddress, tracing))
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("could not start the language host RPC server: %w", err))
	}
	// The plugin protocol: the first line on stdout is the port the CLI dials.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("language host RPC stopped serving: %w", err))
	}
}

// findExecScript locates the upstream exec shim that build-engine.sh installs next to this binary.
func findExecScript() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot locate this executable: %w", err)
	}
	if resolved, err := filepath.EvalSymlinks(self); err == nil {
		self = resolved
	}
	script := filepath.Join(filepath.Dir(self), execScriptName)
	if _, err := os.Stat(script); err != nil {
		return "", fmt.Errorf("%s is missing next to %s: run `make engine` to reinstall the engine tools", script, self)
	}
	return script, nil
}
