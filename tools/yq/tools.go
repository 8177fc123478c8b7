//go:build tools

// Package tools pins yq (mikefarah/yq v4), the YAML processor the installer Job's apply step and the maintenance
// keeper run (the toolbox image has yq v4): tests run those scripts with this build against a local API server.
package tools

import _ "github.com/mikefarah/yq/v4"
