// pulumi-resource-kubernetes: the upstream Kubernetes provider (github.com/pulumi/pulumi-kubernetes/provider/v4),
// served by its own pkg/provider. Upstream's main embeds schema-embed.json and terraform-mapping-embed.json, which
// its `go generate` step writes and which are not in the module zip; tools/build-engine.sh runs that upstream
// generate.go on the schema.json and terraform-mapping.json the zip does ship and writes both files here
// (git-ignored) before building. The only difference from upstream's main is where the embedded files come from.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
