package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDaemonPullLogsToClient: a pull through a daemon prints what it is
// doing on the user's stderr, as it would without a daemon — not on the
// daemon's, where `imgp2p pull CID | docker load` left the user looking
// at nothing for up to --timeout. The daemon is online (loopback only, no
// mDNS) and nobody has the CID, so the pull waits and says so every 2 s.
// Each way a pull reaches the daemon is covered: into a file and into a
// pipe (the daemon writes the descriptor), into a directory (the client
// unpacks what the daemon sends), and copy.
func TestDaemonPullLogsToClient(t *testing.T) {
	r := newRepo(t)
	d := r.startDaemon("--mdns=false")
	cid := unknownCID()
	want := "imgp2p: waiting for " + cid + ": "
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		args []string
	}{
		{"pull -o FILE", []string{"pull", "--timeout", "5s", "-o", filepath.Join(dir, "img.tar"), cid}},
		{"pull > pipe", []string{"pull", "--timeout", "5s", cid}},
		{"pull --format oci -o DIR", []string{"pull", "--timeout", "5s", "--format", "oci", "-o", filepath.Join(dir, "layout"), cid}},
		{"copy", []string{"copy", "--timeout", "5s", cid, "docker://127.0.0.1:1/nowhere:v1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := r.fails(c.args...)
			if !strings.Contains(string(res.stderr), want) {
				t.Errorf("stderr lacks %q: %v", want, res)
			}
			if !strings.Contains(string(res.stderr), "no peer provided it within 5s") {
				t.Errorf("stderr lacks the timeout error: %v", res)
			}
			if len(res.stdout) != 0 {
				t.Errorf("stdout is not empty: %v", res)
			}
		})
	}
	if log := string(readFile(t, d.log)); strings.Contains(log, "waiting for "+cid) {
		t.Errorf("the daemon's log has the pulls' lines too:\n%s", log)
	}
}

// TestDaemonPullLogsAsTheyHappen: the lines reach the user while the pull
// still waits, not with its end: into a file (the daemon writes it) and
// into a directory (the client copies what the daemon writes to a pipe).
func TestDaemonPullLogsAsTheyHappen(t *testing.T) {
	r := newRepo(t)
	r.startDaemon("--mdns=false")
	cid := unknownCID()
	dir := t.TempDir()
	for _, args := range [][]string{
		{"-o", filepath.Join(dir, "img.tar")},
		{"--format", "oci", "-o", filepath.Join(dir, "layout")},
	} {
		p := r.startBackground(nil, append(append([]string{"pull", "--timeout", "2m"}, args...), cid)...)
		// The first line comes 2 s in; the pull would give up after 2 min.
		waitUntil(t, fmt.Sprintf("waiting line from pull %q while it runs", args), 30*time.Second, p, func() bool {
			return strings.Contains(p.logText(), "imgp2p: waiting for "+cid)
		})
		p.stop(t)
	}
}

// TestQuietPullPrintsOnlyTheError: -q leaves nothing on stderr but the
// error, without a daemon and through one (whose lines for the pull come
// back to it).
func TestQuietPullPrintsOnlyTheError(t *testing.T) {
	r := newRepo(t)
	cid := unknownCID()
	check := func(how string) {
		t.Helper()
		res := r.fails("pull", "-q", "--mdns=false", "--timeout", "3s", "-o", filepath.Join(t.TempDir(), "img.tar"), cid)
		if lines := strings.Split(strings.TrimSpace(string(res.stderr)), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "no peer provided it within 3s") {
			t.Errorf("%s: pull -q printed more than its error: %v", how, res)
		}
	}
	check("without a daemon")
	r.startDaemon("--mdns=false")
	check("through a daemon")
}
