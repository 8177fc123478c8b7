package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
)

// parseOptions reads `runtime.options` of Pulumi.yaml / PulumiPolicy.yaml (virtualenv, toolchain, typechecker).
func parseOptions(info *pulumirpc.ProgramInfo) (toolchain.PythonOptions, error) {
	if info == nil {
		return toolchain.PythonOptions{}, errors.New("the CLI sent no program info (root and program directory)")
	}
	opts := toolchain.PythonOptions{
		Root:       info.GetRootDirectory(),
		ProgramDir: info.GetProgramDirectory(),
		Toolchain:  toolchain.Pip,
	}
	options := info.GetOptions().AsMap()
	if v, ok := options["virtualenv"]; ok {
		s, isString := v.(string)
		if !isString {
			return opts, fmt.Errorf("runtime option virtualenv must be a string, got %v", v)
		}
		opts.Virtualenv = s
	}
	if v, ok := options["toolchain"]; ok {
		switch v {
		case "pip":
			opts.Toolchain = toolchain.Pip
		case "uv":
			opts.Toolchain = toolchain.Uv
		case "poetry":
			opts.Toolchain = toolchain.Poetry
		default:
			return opts, fmt.Errorf("runtime option toolchain %q is not one of pip, uv, poetry", v)
		}
	} else {
		opts.Toolchain = toolchain.Auto
	}
	if v, ok := options["typechecker"]; ok && v != "" {
		return opts, fmt.Errorf("runtime option typechecker=%v is not supported by gitpod-cell's minimal Python "+
			"language host; remove it from runtime.options", v)
	}
	return opts, nil
}

// pluginManifest is a Python package's pulumi-plugin.json, as generated provider SDKs ship it.
type pluginManifest struct {
	Resource         bool   `json:"resource"`
	Name             string `json:"name"`
	Version          string `json:"version"`
	Server           string `json:"server"`
	Parameterization *struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Value   string `json:"value"` // base64
	} `json:"parameterization"`
}

var distInfoVersion = regexp.MustCompile(`^(.+)-([^-]+)\.dist-info$`)

// providerPackages lists the resource plugins the packages in the virtualenv declare in pulumi-plugin.json.
func providerPackages(opts toolchain.PythonOptions) ([]*pulumirpc.PackageDependency, error) {
	venv := opts.Virtualenv
	if venv == "" {
		// Global Python: upstream asks `pip list`; this host only reads virtualenvs.
		return nil, nil
	}
	if !filepath.IsAbs(venv) {
		venv = filepath.Join(opts.Root, venv)
	}
	manifests, err := filepath.Glob(filepath.Join(venv, "lib", "python*", "site-packages", "*", "pulumi-plugin.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(manifests)
	var packages []*pulumirpc.PackageDependency
	for _, path := range manifests {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		var m pluginManifest
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if !m.Resource {
			continue
		}
		dir := filepath.Dir(path)
		name := m.Name
		if name == "" {
			name = strings.ReplaceAll(strings.TrimPrefix(filepath.Base(dir), "pulumi_"), "_", "-")
		}
		version := m.Version
		if version == "" {
			version = distVersion(filepath.Dir(dir), filepath.Base(dir))
		}
		dep := &pulumirpc.PackageDependency{Name: name, Kind: "resource", Version: version, Server: m.Server}
		if p := m.Parameterization; p != nil {
			value, err := base64.StdEncoding.DecodeString(p.Value)
			if err != nil {
				return nil, fmt.Errorf("%s: parameterization value: %w", path, err)
			}
			dep.Parameterization = &pulumirpc.PackageParameterization{Name: p.Name, Version: p.Version, Value: value}
		}
		packages = append(packages, dep)
	}
	return packages, nil
}

// distVersion finds the version of the distribution whose import package is `pkg` in site-packages.
func distVersion(sitePackages, pkg string) string {
	entries, err := os.ReadDir(sitePackages)
	if err != nil {
		return ""
	}
	for _, e := range entries {
		m := distInfoVersion.FindStringSubmatch(e.Name())
		if m != nil && strings.EqualFold(strings.ReplaceAll(m[1], "-", "_"), pkg) {
			return m[2]
		}
	}
	return ""
}
