package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
)

// Everything the bench leaves behind is undone here, whichever way it ends:
// normally, through fatalf, or on SIGINT/SIGTERM/SIGHUP. Order matters:
// processes first (a namespace lives on while a process is inside it), then
// namespaces, then the work directory.
var live struct {
	sync.Mutex
	procs      map[*proc]bool
	namespaces []string // in creation order; deleted in reverse
	work       string   // removed unless -keep
	keep       bool
	closing    bool // cleanup has begun: nothing new may start
}

var (
	cleanupOnce sync.Once
	// interrupted is set once a signal has started the clean-up: what
	// fails after that is the clean-up at work, not worth reporting.
	interrupted atomic.Bool
)

func init() { live.procs = map[*proc]bool{} }

// trackProc records a started process for cleanup; false means cleanup
// has already begun and the caller must stop it itself.
func trackProc(p *proc) bool {
	live.Lock()
	defer live.Unlock()
	if live.closing {
		return false
	}
	live.procs[p] = true
	return true
}

func untrackProc(p *proc) {
	live.Lock()
	defer live.Unlock()
	delete(live.procs, p)
}

// trackNamespace records a namespace for cleanup, like trackProc.
func trackNamespace(ns string) bool {
	live.Lock()
	defer live.Unlock()
	if live.closing {
		return false
	}
	live.namespaces = append(live.namespaces, ns)
	return true
}

func untrackNamespace(ns string) {
	live.Lock()
	defer live.Unlock()
	for i, n := range live.namespaces {
		if n == ns {
			live.namespaces = append(live.namespaces[:i], live.namespaces[i+1:]...)
			return
		}
	}
}

// cleanup stops every process the bench started and still runs, deletes
// every namespace it made, and removes the work directory. It runs once;
// a concurrent caller waits until it is done.
func cleanup() { cleanupOnce.Do(cleanUp) }

func cleanUp() {
	live.Lock()
	live.closing = true
	var procs []*proc
	for p := range live.procs {
		procs = append(procs, p)
	}
	namespaces := append([]string(nil), live.namespaces...)
	work, keep := live.work, live.keep
	live.Unlock()

	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Add(1)
		go func() { defer wg.Done(); p.kill() }()
	}
	wg.Wait()
	for i := len(namespaces) - 1; i >= 0; i-- {
		if msg, err := exec.Command("ip", "netns", "delete", namespaces[i]).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "bench: ip netns delete %s: %v: %s", namespaces[i], err, msg)
		}
	}
	if work != "" {
		if keep {
			fmt.Fprintf(os.Stderr, "bench: work directory kept: %s\n", work)
		} else if err := os.RemoveAll(work); err != nil {
			fmt.Fprintf(os.Stderr, "bench: removing %s: %v\n", work, err)
		}
	}
}

// trapSignals makes an interrupted bench clean up before it exits.
func trapSignals() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-ch
		fmt.Fprintf(os.Stderr, "\nbench: %v: stopping processes, deleting namespaces\n", s)
		interrupted.Store(true)
		cleanup()
		os.Exit(130)
	}()
}

// fatalf reports, cleans up and exits 1.
func fatalf(format string, args ...any) {
	if interrupted.Load() {
		cleanup()
		os.Exit(130)
	}
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	cleanup()
	os.Exit(1)
}

func check(err error, doing string) {
	if err != nil {
		fatalf("%s: %v", doing, err)
	}
}
