package e2e

import (
	"bytes"
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestGCAbandonedFreesDaemon: a gc through the daemon waits for the pulls
// in flight; when its user gives up on it (Ctrl-C), the daemon must give
// up the wait too. A gc left queued held back every push and pull that
// came after it, for as long as the pull it waited on took.
//
// The pull is held in flight by its reader: the daemon writes into the
// pull's stdout pipe, which the test stops reading after 64 KiB.
func TestGCAbandonedFreesDaemon(t *testing.T) {
	r := newRepo(t)
	cid := r.push(randomLayout(t, 8, 611))
	want := filepath.Join(t.TempDir(), "want.tar")
	r.ok("pull", "--offline", "-o", want, cid)
	wantSum := sha256.Sum256(readFile(t, want))
	d := r.startDaemon("--mdns=false")
	sock := filepath.Join(r.dir, "api.sock")

	pull := startHeldPull(t, r, 64<<10, "--offline", cid)
	gc := r.startBackground(nil, "gc")
	deadline := time.Now().Add(30 * time.Second)
	for apiConnections(t, d.cmd.Process.Pid, sock) < 2 {
		if gc.done() {
			t.Fatalf("gc finished while a pull was in flight: %v", gc.outcome())
		}
		if time.Now().After(deadline) {
			t.Fatalf("the daemon never had 2 API connections (pull + gc) within 30s; log:\n%s", readFile(t, d.log))
		}
		time.Sleep(20 * time.Millisecond) // poll interval, bounded by the deadline
	}
	if gc.done() {
		t.Fatalf("gc finished while a pull was in flight: %v", gc.outcome())
	}
	gc.cmd.Process.Signal(os.Interrupt)
	select {
	case <-gc.exited:
		t.Logf("gc after Ctrl-C: %v", gc.outcome())
	case <-time.After(30 * time.Second):
		t.Fatal("gc still running 30s after SIGINT")
	}

	// The pull still holds the repo's pin lock; another push and pull
	// through the daemon must not wait for the abandoned gc.
	other := r.runWithin(60*time.Second, "push", helloLayout(t))
	if other.code != 0 {
		t.Fatalf("push through the daemon after an abandoned gc: %v\ndaemon log:\n%s", other, readFile(t, d.log))
	}
	if res := r.runWithin(60*time.Second, "pull", "--offline", "-o", filepath.Join(t.TempDir(), "hello.tar"), "imgp2p-test/hello:v1"); res.code != 0 {
		t.Fatalf("pull through the daemon after an abandoned gc: %v", res)
	}

	res, sum := pull.finish(t)
	if res.code != 0 {
		t.Fatalf("the held pull failed: %v", res)
	}
	if !bytes.Equal(sum, wantSum[:]) {
		t.Errorf("the held pull wrote other bytes than the same pull before (sha256 %x, want %x)", sum, wantSum)
	}
	// The abandoned gc took nothing: both images are pinned and whole.
	if n := r.gc(); n != 0 {
		t.Errorf("gc removed %d blocks of a repo holding only pinned images", n)
	}
	wantVerifyClean(t, r)
	d.stop(t)
}
