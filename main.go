// Command imgp2p moves OCI container images peer to peer over IPFS.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
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
	// The first signal asks the command to stop cleanly; a command stuck
	// in a system call that cannot see it (reading a terminal or a pipe
	// nobody writes) ends at the second, which gets the default action.
	// The repo survives that as it survives SIGKILL.
	go func() {
		<-ctx.Done()
		stop()
	}()
	stopProfile := startProfile(os.Getenv("IMGP2P_CPUPROFILE"))
	err := commands.NewApp().RunContext(ctx, os.Args)
	stopProfile()
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "imgp2p:", commands.ErrorText(err))
		os.Exit(1)
	}
}

// startProfile writes a CPU profile of the whole run to path, when set:
// how performance work here starts (go tool pprof imgp2p FILE).
func startProfile(path string) func() {
	if path == "" {
		return func() {}
	}
	// Several processes at once (a daemon and its clients, a bench's
	// swarm) each get their own file: %p stands for the process ID.
	path = strings.ReplaceAll(path, "%p", strconv.Itoa(os.Getpid()))
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "imgp2p: IMGP2P_CPUPROFILE:", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
