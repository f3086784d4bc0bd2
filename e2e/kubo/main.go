// Command ipfs is Kubo, built from its Go module for imgp2p's interop tests.
//
// Kubo's own go.mod replaces go-libp2p with a fork the module proxy does not
// serve, so `go install github.com/ipfs/kubo/cmd/ipfs` refuses. This module
// requires the upstream go-libp2p instead and calls Kubo's real entry point,
// which gives a working `ipfs`. It is its own module so that Kubo's large
// dependency tree stays out of imgp2p's go.mod; .ci/run builds it.
package main

import (
	"os"

	"github.com/ipfs/kubo/cmd/ipfs/kubo"
)

func main() {
	os.Exit(kubo.Start(kubo.BuildDefaultEnv))
}
