package e2e

import (
	"bufio"
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
)

// peerRow is one line of `imgp2p peers`.
type peerRow struct{ ID, Source, Addrs string }

// peers runs `imgp2p peers` (through r's daemon) and parses its table.
func (r *repo) peers() []peerRow {
	r.t.Helper()
	res := r.ok("peers")
	var rows []peerRow
	sc := bufio.NewScanner(bytes.NewReader(res.stdout))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || f[0] == "PEER" {
			continue
		}
		rows = append(rows, peerRow{ID: f[0], Source: f[1], Addrs: f[2]})
	}
	return rows
}

// waitPeer polls r's `imgp2p peers` until it lists id as found by source
// over an address containing ip, and fails the test after a deadline.
func waitPeer(t *testing.T, r *repo, id, source, ip string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var rows []peerRow
	for time.Now().Before(deadline) {
		rows = r.peers()
		for _, p := range rows {
			if p.ID == id && p.Source == source && (strings.Contains(p.Addrs, "/ip4/"+ip+"/") || strings.Contains(p.Addrs, "/ip6/"+ip+"/")) {
				return
			}
		}
		time.Sleep(200 * time.Millisecond) // poll interval; the deadline bounds the wait
	}
	t.Fatalf("peers never listed %s (found by %s, at %s) within 60s; last: %+v", id, source, ip, rows)
}

// fromPeers is the peer count in pull's summary line.
var fromPeers = regexp.MustCompile(`(?m)^pulled \S+ \(.*\): fetched \d+ blocks \(.*\) from (\d+) peer\(s\)`)

// summaryPeers returns how many peers pull's summary says sent bytes, or
// fails the test if there is no summary naming peers.
func summaryPeers(t *testing.T, res result) string {
	t.Helper()
	m := fromPeers.FindSubmatch(res.stderr)
	if m == nil {
		t.Fatalf("no summary line with \"from N peer(s)\": %v", res)
	}
	return string(m[1])
}
