package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// idInfo is what `imgp2p id` prints.
type idInfo struct {
	ID        string
	Addresses []string
	Mode      string
}

func (r *repo) id() (idInfo, result) {
	res := r.run(nil, "id")
	var info idInfo
	if res.code == 0 {
		if err := json.Unmarshal(res.stdout, &info); err != nil {
			res.code = -1
			res.stderr = append(res.stderr, []byte("\n[test harness: id output is not JSON: "+err.Error()+"]")...)
		}
	}
	return info, res
}

// daemon is a running `imgp2p daemon` on a repo.
type daemon struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd.Wait returns
	err    error         // cmd.Wait's result, valid after exited
	log    string        // file holding the daemon's stdout and stderr
	// Addr is the loopback multiaddr (with /p2p/ID) other repos pass to --peer.
	Addr string
	ID   string
}

// startDaemon runs `imgp2p daemon` on r, listening on loopback only, and
// returns once `imgp2p id` (which goes through the daemon's API) reports its
// listen addresses. The daemon is stopped when the test ends.
func (r *repo) startDaemon(args ...string) *daemon {
	r.t.Helper()
	return r.launchDaemon(addrWithPrefix("/ip4/127.0.0.1/tcp/"),
		append([]string{"daemon", "--listen", "/ip4/127.0.0.1/tcp/0"}, args...)...)
}

// addrWithPrefix is a readiness check for launchDaemon: ready once id lists
// a dialable address (with /p2p/ID) starting with prefix, which it returns.
func addrWithPrefix(prefix string) func(idInfo) (string, bool) {
	return func(info idInfo) (string, bool) {
		for _, a := range info.Addresses {
			if strings.HasPrefix(a, prefix) && strings.Contains(a, "/p2p/") {
				return a, true
			}
		}
		return "", false
	}
}

// launchDaemon runs `imgp2p argv...` (a daemon command line) on r and
// returns once ready accepts what `imgp2p id` reports; the address ready
// returns becomes the daemon's Addr. The daemon is stopped when the test
// ends.
func (r *repo) launchDaemon(ready func(idInfo) (string, bool), argv ...string) *daemon {
	r.t.Helper()
	log := filepath.Join(r.t.TempDir(), "daemon.log")
	f, err := os.Create(log)
	if err != nil {
		r.t.Fatal(err)
	}
	defer f.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := r.command(ctx, argv...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		cancel()
		r.t.Fatal(err)
	}
	d := &daemon{cmd: cmd, exited: make(chan struct{}), log: log}
	go func() { d.err = cmd.Wait(); cancel(); close(d.exited) }()
	r.t.Cleanup(func() { d.stop(r.t) })

	deadline := time.Now().Add(60 * time.Second)
	for {
		info, res := r.id()
		if res.code == 0 {
			if addr, ok := ready(info); ok {
				d.Addr, d.ID = addr, info.ID
				return d
			}
		}
		select {
		case <-d.exited:
			r.t.Fatalf("daemon exited before it was ready (%v); log:\n%s\nlast id: %v", d.err, readFile(r.t, log), res)
		default:
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("daemon not ready after 60s; log:\n%s\nlast id: %v", readFile(r.t, log), res)
		}
		time.Sleep(100 * time.Millisecond) // poll interval; the loop's deadline is what bounds it
	}
}

// stop sends SIGINT and expects a clean exit (status 0) in bounded time.
// Idempotent, so tests may stop a daemon early and cleanup stops it again.
func (d *daemon) stop(t testing.TB) {
	t.Helper()
	select {
	case <-d.exited:
		return
	default:
	}
	d.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-d.exited:
		if d.err != nil {
			t.Errorf("daemon exited with %v after SIGINT; log:\n%s", d.err, readFile(t, d.log))
		}
	case <-time.After(30 * time.Second):
		d.cmd.Process.Kill()
		<-d.exited
		t.Errorf("daemon still running 30s after SIGINT; log:\n%s", readFile(t, d.log))
	}
}
