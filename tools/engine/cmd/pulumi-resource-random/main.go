// pulumi-resource-random: a STAND-IN for the Pulumi random provider, written for gitpod-cell.
//
// It is not pulumi-random. The real provider (github.com/pulumi/pulumi-random/provider/v4) is not served by the Go
// module proxy this project can reach, at any tag or commit tried ("server response: This module version is not
// available."), so `make engine` builds this instead. It implements exactly the two resources gitpod-cell uses,
// with pulumi-random 4.21.4's tokens and property names (as in the pulumi_random Python SDK):
//
//	random:index/randomPassword:RandomPassword  inputs length, keepers, lower, upper, numeric (number), special,
//	                                            minLower, minUpper, minNumeric, minSpecial, overrideSpecial;
//	                                            outputs result and bcryptHash (secret) plus the inputs
//	random:index/randomBytes:RandomBytes        inputs length, keepers; outputs base64 and hex (secret)
//
// Values come from crypto/rand. As upstream (every input of these resources is ForceNew), any input change,
// keepers included, replaces the resource. Not implemented: the other random resources, import, GetSchema.
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// version: the pulumi-random release whose interface this stands in for, with build metadata saying what it is.
var version = "4.21.4+gitpod-cell.standin"

func main() {
	for _, arg := range os.Args[1:] {
		switch arg {
		case "-version", "--version":
			fmt.Println(version)
			return
		case "-h", "-help", "--help":
			fmt.Printf("pulumi-resource-random %s: gitpod-cell's stand-in for the Pulumi random provider (the real "+
				"provider's Go module is not served by the Go module proxy).\nImplements RandomPassword and "+
				"RandomBytes only. Started by the Pulumi CLI as: pulumi-resource-random ENGINE_ADDRESS\n", version)
			return
		}
	}
	err := provider.Main("random", func(*provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return &randomProvider{}, nil
	})
	if err != nil {
		cmdutil.ExitError(err.Error())
	}
}
