package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// lanKubo is a Kubo node on one host of a namespace LAN (lan_netns_test.go):
// its swarm listens on the host's LAN address and mDNS is on, as on a real
// LAN. The repo comes from newKubo; every command that talks to the daemon
// runs on the LAN host, because the daemon's API is on that namespace's
// loopback.
type lanKubo struct {
	t    *testing.T
	k    *kubo // the repo; only offline commands (init, config) go through it
	host *lanHost
	proc *bgProc
	ID   string
	Addr string // the daemon's LAN multiaddr with /p2p/ID
}

// newLANKubo makes a Kubo repo for h. The test profile newKubo applies binds
// loopback and turns mDNS off; a LAN node does neither. Bootstrap stays
// empty: whatever Kubo finds, it finds by mDNS.
func newLANKubo(t *testing.T, h *lanHost) *lanKubo {
	t.Helper()
	k := newKubo(t) // init and config only touch IPFS_PATH, wherever they run
	k.ok("config", "--json", "Discovery.MDNS.Enabled", "true")
	k.ok("config", "--json", "Addresses.Swarm", fmt.Sprintf(`["/ip4/%s/tcp/4001"]`, h.IP))
	return &lanKubo{t: t, k: k, host: h}
}

// command is `ipfs args...` on the LAN host, with the environment every
// Kubo of the tests runs with.
func (lk *lanKubo) command(ctx context.Context, args ...string) *exec.Cmd {
	base := lk.k.command(ctx, args...)
	bin, _ := kuboPath()
	argv := inNamespace(lk.host.ns, append([]string{bin}, args...)...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = base.Env
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = base.WaitDelay
	return cmd
}

func (lk *lanKubo) run(args ...string) result {
	lk.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	return execute(lk.command(ctx, args...), nil)
}

// ok runs ipfs on the LAN host and fails the test unless it exits 0.
func (lk *lanKubo) ok(args ...string) result {
	lk.t.Helper()
	res := lk.run(args...)
	if res.code != 0 {
		lk.t.Fatalf("ipfs failed: %v%s", res, lk.daemonLog())
	}
	return res
}

func (lk *lanKubo) daemonLog() string {
	if lk.proc == nil {
		return ""
	}
	return "\nKubo daemon log:\n" + lk.proc.logText()
}

// startDaemon runs `ipfs daemon` on the LAN host and returns once its API
// answers `ipfs id` with the LAN swarm address. It is stopped (SIGINT, clean
// exit expected) when the test ends.
func (lk *lanKubo) startDaemon() {
	lk.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	lk.proc = startProc(lk.t, "ipfs daemon", lk.command(ctx, "daemon"), cancel, true)
	prefix := "/ip4/" + lk.host.IP + "/tcp/4001/p2p/"
	deadline := time.Now().Add(60 * time.Second)
	var last result
	for {
		// As in kubo.startDaemon: ask only once the daemon has written its
		// api file, or the CLI would open the repo itself.
		if _, err := os.Stat(filepath.Join(lk.k.path, "api")); err == nil {
			last = lk.run("id")
			var info idInfo
			if last.code == 0 && json.Unmarshal(last.stdout, &info) == nil {
				for _, a := range info.Addresses {
					if strings.HasPrefix(a, prefix) {
						lk.ID, lk.Addr = info.ID, a
						return
					}
				}
			}
		}
		if lk.proc.done() {
			lk.t.Fatalf("ipfs daemon exited before it was ready (%v); log:\n%s", lk.proc.err, lk.proc.logText())
		}
		if time.Now().After(deadline) {
			lk.t.Fatalf("ipfs daemon not ready on %s after 60s; log:\n%s\nlast id: %v", lk.host.IP, lk.proc.logText(), last)
		}
		time.Sleep(100 * time.Millisecond) // poll interval; the deadline bounds the loop
	}
}

// waitSwarmPeer polls `ipfs swarm peers` until it lists id at an address on
// ip, and fails the test after a minute. It returns how long it waited.
func (lk *lanKubo) waitSwarmPeer(id, ip string) time.Duration {
	lk.t.Helper()
	start := time.Now()
	deadline := start.Add(60 * time.Second)
	var peers []string
	for {
		peers = trimmedLines(lk.ok("swarm", "peers").stdout)
		for _, p := range peers {
			if strings.HasPrefix(p, "/ip4/"+ip+"/") && strings.HasSuffix(p, "/p2p/"+id) {
				return time.Since(start)
			}
		}
		if time.Now().After(deadline) {
			lk.t.Fatalf("ipfs swarm peers never listed %s at %s within 60s; last: %q%s", id, ip, peers, lk.daemonLog())
		}
		time.Sleep(200 * time.Millisecond) // poll interval; the deadline bounds the loop
	}
}
