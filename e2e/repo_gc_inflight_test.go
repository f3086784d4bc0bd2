package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// apiConnections counts the connections the process pid has accepted on
// the unix socket at path and not yet closed. An accepted socket carries
// its listener's path in /proc/net/unix (state 03, connected); the
// listener itself is state 01 and the clients' ends have no path.
func apiConnections(t testing.TB, pid int, path string) int {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/net/unix", pid))
	if err != nil {
		t.Fatalf("reading the daemon's unix sockets: %v", err)
	}
	defer f.Close()
	owned := socketInodes(t, pid)
	n := 0
	sc := bufio.NewScanner(f)
	sc.Scan() // Num RefCount Protocol Flags Type St Inode Path
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 8 && fields[5] == "03" && fields[7] == path && owned[fields[6]] {
			n++
		}
	}
	return n
}

// socketInodes is the set of socket inodes the process pid holds open.
func socketInodes(t testing.TB, pid int) map[string]bool {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatalf("listing the fds of pid %d: %v", pid, err)
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if inode, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
			inodes[strings.TrimSuffix(inode, "]")] = true
		}
	}
	return inodes
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// TestGCDuringPull: gc on a repo whose daemon is in the middle of a pull
// from a peer must not take the blocks that pull is writing (they are not
// pinned yet): the pull completes with the right bytes and gc completes
// too, and the repo verifies afterwards.
//
// Both go through B's daemon, the only way two commands share a repo. The
// pull is held in flight by its reader: the test reads the first MiB of
// the tar, stops reading, starts gc, and waits until the daemon has
// accepted gc's connection (so gc's request is in the daemon, competing
// with the pull for the repo) before reading the rest.
func TestGCDuringPull(t *testing.T) {
	a := newRepo(t)
	da := a.startDaemon("--mdns=false")
	layout := randomLayout(t, 64, 606)
	cid := a.push(layout)
	want := filepath.Join(t.TempDir(), "want.tar")
	a.ok("pull", "-o", want, cid)
	wantSum := sha256.Sum256(readFile(t, want))

	b := newRepo(t)
	db := b.startDaemon("--mdns=false")
	sock := filepath.Join(b.dir, "api.sock")
	if n := apiConnections(t, db.cmd.Process.Pid, sock); n != 0 {
		t.Fatalf("B's daemon has %d API connections open before the test starts", n)
	}

	pull := startHeldPull(t, b, 1<<20, "--peer", da.Addr, "--timeout", "2m", cid)
	gc := b.startBackground(nil, "gc")

	// Wait for the pull's connection plus gc's. A gc that finishes while
	// the pull is held is not wrong by itself (it may skip what is in
	// flight); the pull's bytes below are what must hold.
	deadline := time.Now().Add(30 * time.Second)
	for apiConnections(t, db.cmd.Process.Pid, sock) < 2 {
		if gc.done() {
			t.Logf("gc finished while the pull was held, before its connection was seen: %v", gc.outcome())
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("B's daemon never had 2 API connections (pull + gc) within 30s; daemon log:\n%s", readFile(t, db.log))
		}
		time.Sleep(20 * time.Millisecond) // poll interval, bounded by the deadline
	}

	// Read the rest; the pull must finish with exactly A's bytes.
	pullRes, sum := pull.finish(t)
	if pullRes.code != 0 {
		t.Fatalf("pull with a concurrent gc failed: %v\ngc so far: %q", pullRes, gc.logText())
	}
	if !bytes.Equal(sum, wantSum[:]) {
		t.Errorf("pull with a concurrent gc wrote other bytes than A's own pull (sha256 %x, want %x)", sum, wantSum)
	}

	select {
	case <-gc.exited:
		// Its log holds stderr too (which images went); stdout's one
		// line is checked on its own by the other gc tests.
		gcRes := gc.outcome()
		if gcRes.code != 0 || !gcLogLine.Match(gcRes.stdout) {
			t.Errorf("gc concurrent with a pull: %v", gcRes)
		}
		t.Logf("gc concurrent with the pull: %q", gcRes.stdout)
	case <-time.After(cmdTimeout):
		t.Fatalf("gc did not finish within %v of the pull finishing; daemon log:\n%s", cmdTimeout, readFile(t, db.log))
	}

	// Whatever gc kept is intact. (Pulling the image again, which gc
	// collected once the pull let go, is TestGCRepullThroughDaemon.)
	if res := b.ok("verify"); !bytes.Contains(res.stderr, []byte(" 0 problems")) {
		t.Errorf("verify after pull + gc: %v", res)
	}
}

// gcLogLine finds gc's result line in a log of its stdout and stderr.
var gcLogLine = regexp.MustCompile(`(?m)^removed \d+ blocks \([0-9.]+ [KMGT]?i?B\)$`)

// fetchedBlocksRE finds the count of blocks fetched in pull's summary.
var fetchedBlocksRE = regexp.MustCompile(`fetched (\d+) blocks`)

// repullLimit bounds a pull of 64 MiB over loopback that takes about a
// second: well past it, the pull is stuck, not slow.
const repullLimit = 60 * time.Second

// runWithin is run with a deadline of its own: past it the command is
// interrupted and the result says so.
func (r *repo) runWithin(d time.Duration, args ...string) result {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	res := execute(r.command(ctx, args...), nil)
	if ctx.Err() != nil {
		res.stderr = append(res.stderr, []byte(fmt.Sprintf("\n[test harness: still running after %v, interrupted]", d))...)
	}
	return res
}

// TestGCRepullThroughDaemon: a daemon pulls an image from a peer, gc
// collects it (it is cached, not pinned), and the daemon pulls it again,
// several times over: each pull completes with the same bytes.
func TestGCRepullThroughDaemon(t *testing.T) {
	a := newRepo(t)
	da := a.startDaemon("--mdns=false")
	layout := randomLayout(t, 64, 607)
	cid := a.push(layout)
	want := filepath.Join(t.TempDir(), "want.tar")
	a.ok("pull", "-o", want, cid)

	b := newRepo(t)
	db := b.startDaemon("--mdns=false")
	for i := range 3 {
		out := filepath.Join(t.TempDir(), "img.tar")
		res := b.runWithin(repullLimit, "pull", "--peer", da.Addr, "--timeout", "30s", "-o", out, cid)
		if res.code != 0 {
			t.Fatalf("pull %d (after %d gc) through B's daemon: %v\nB's verify %s:\n%s\ndaemon log:\n%s",
				i+1, i, res, cid, b.run(nil, "verify", cid).stdout, readFile(t, db.log))
		}
		if !bytes.Equal(readFile(t, out), readFile(t, want)) {
			t.Fatalf("pull %d (after %d gc) differs from A's own pull", i+1, i)
		}
		// gc left nothing of the image: every pull fetches all of it again,
		// and its summary says so.
		if m := fetchedBlocksRE.FindSubmatch(res.stderr); m == nil {
			t.Errorf("pull %d: no `fetched N blocks` in the summary: %v", i+1, res)
		} else if n, _ := strconv.Atoi(string(m[1])); n < 64 {
			t.Errorf("pull %d (after %d gc) says it fetched %d blocks; the repo held none of the 64 MiB layer's 64: %s", i+1, i, n, res.stderr)
		}
		if n := b.gc(); n < 64 {
			t.Errorf("gc %d removed %d blocks; the pulled 64 MiB layer alone is 64", i+1, n)
		}
	}
}
