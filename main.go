// Command imgp2p moves OCI container images peer to peer over IPFS.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/imgp2p/imgp2p/commands"
)

// Stamped by the release build (-ldflags "-X main.version=… -X main.commit=…").
var (
	version = "dev"
	commit  = "none"
)

func main() {
	commands.Version, commands.Commit = version, commit
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := commands.NewApp().RunContext(ctx, os.Args)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "imgp2p:", err)
		os.Exit(1)
	}
}
