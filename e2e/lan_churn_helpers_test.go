package e2e

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Helpers for LAN tests where peers come and go: shaped links, cables
// pulled and plugged back, and how many bytes a host has received.

// shape limits h's link to rate (tc syntax, "40mbit") both ways, with the
// fan-out bench's qdisc: tbf on each end of its veth. Transfers then last
// long enough for a test to act in the middle of one.
func (l *lan) shape(h *lanHost, rate string) {
	l.t.Helper()
	tbf := []string{"root", "tbf", "rate", rate, "burst", "64kb", "latency", "400ms"}
	l.tc(h.ns, append([]string{"qdisc", "add", "dev", "eth0"}, tbf...)...)
	l.tc(l.bridge, append([]string{"qdisc", "add", "dev", h.port}, tbf...)...)
}

func (l *lan) tc(ns string, args ...string) {
	l.t.Helper()
	argv := append([]string{"netns", "exec", ns, "tc"}, args...)
	if msg, err := exec.Command("ip", argv...).CombinedOutput(); err != nil {
		need(l.t, "tc's tbf qdisc", fmt.Errorf("ip %v: %v: %s", argv, err, msg))
	}
}

// unplug takes h off the LAN the way a pulled cable does: its switch port
// goes down, so packets to and from it vanish and no connection is reset.
// Its processes live on and see nothing happen.
func (l *lan) unplug(h *lanHost) {
	l.t.Helper()
	l.ip(l.bridge, "link", "set", h.port, "down")
}

// plug puts h back on the LAN.
func (l *lan) plug(h *lanHost) {
	l.t.Helper()
	l.ip(l.bridge, "link", "set", h.port, "up")
}

// rxBytes is how many bytes h's eth0 has received.
func rxBytes(t testing.TB, h *lanHost) int64 { return linkCounter(t, h, "rx_bytes") }

// txBytes is how many bytes h's eth0 has sent.
func txBytes(t testing.TB, h *lanHost) int64 { return linkCounter(t, h, "tx_bytes") }

func linkCounter(t testing.TB, h *lanHost, name string) int64 {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", h.ns, "cat", "/sys/class/net/eth0/statistics/"+name).Output()
	if err != nil {
		t.Fatalf("%s of %s: %v", name, h.ns, err)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		t.Fatalf("%s of %s: %v", name, h.ns, err)
	}
	return n
}

// waitPulled waits up to a minute for pull (started with -o got) to end
// after since, when what happened, and checks it wrote want's bytes; it
// returns how long after since the pull ended. dp is the puller's daemon,
// whose log a failure shows.
func waitPulled(t *testing.T, pull *bgProc, since time.Time, what string, dp *daemon, want, got string) time.Duration {
	t.Helper()
	select {
	case <-pull.exited:
	case <-time.After(time.Minute):
		t.Fatalf("pull not done a minute after %s; puller's daemon log:\n%s", what, readFile(t, dp.log))
	}
	took := time.Since(since)
	t.Logf("pull done %v after %s: %s", took.Round(100*time.Millisecond), what, pull.logText())
	if pull.err != nil {
		t.Fatalf("pull failed (%v): %s", pull.err, pull.logText())
	}
	if !bytes.Equal(readFile(t, want), readFile(t, got)) {
		t.Errorf("the pulled image differs from the seeder's")
	}
	return took
}

// peerShare is how many bytes pull's summary credits to the peer id (it
// names peers by the last 8 characters of their IDs), 0 if it names none.
func peerShare(t testing.TB, res result, id string) int64 {
	t.Helper()
	m := regexp.MustCompile(`…` + regexp.QuoteMeta(id[len(id)-8:]) + ` ([0-9.]+ [KMGT]?i?B)\b`).FindSubmatch(res.stderr)
	if m == nil {
		return 0
	}
	return parseIBytes(t, string(m[1]))
}

// seededLAN is a LAN of a seeder holding a random image and a puller,
// each running its daemon; want is the image as the seeder writes it,
// with its summary (every block local there: the image's block count).
type seededLAN struct {
	l              *lan
	hs, hp         *lanHost
	seeder, puller *repo
	ds, dp         *daemon
	cid, want      string
	image          summary
}

func newSeededLAN(t *testing.T, mibs int, seed uint64) *seededLAN {
	t.Helper()
	s := &seededLAN{l: newLAN(t)}
	s.hs, s.hp = s.l.host("seeder"), s.l.host("puller")
	s.seeder, s.puller = s.hs.repo(t), s.hp.repo(t)
	s.cid = s.seeder.push(randomLayout(t, mibs, seed))
	s.want = filepath.Join(t.TempDir(), "want.tar")
	s.image = parseSummary(t, s.seeder.ok("pull", "-o", s.want, s.cid))
	s.ds = s.hs.daemon(s.seeder)
	s.dp = s.hp.daemon(s.puller)
	return s
}
