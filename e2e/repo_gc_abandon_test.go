package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
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

	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	pull := r.command(ctx, "pull", "--offline", cid)
	var pullErr bytes.Buffer
	pull.Stderr = &pullErr
	stdout, err := pull.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := pull.Start(); err != nil {
		t.Fatal(err)
	}
	pullWaited := false
	defer func() {
		if !pullWaited {
			cancel()
			io.Copy(io.Discard, stdout)
			pull.Wait()
		}
	}()
	h := sha256.New()
	if _, err := io.CopyN(h, stdout, 64<<10); err != nil {
		t.Fatalf("reading the start of the pull: %v\nstderr: %s", err, pullErr.Bytes())
	}

	gc := r.command(ctx, "gc")
	var gcOut, gcErr bytes.Buffer
	gc.Stdout, gc.Stderr = &gcOut, &gcErr
	if err := gc.Start(); err != nil {
		t.Fatal(err)
	}
	gcExited := make(chan struct{})
	var gcWaitErr error
	go func() { gcWaitErr = gc.Wait(); close(gcExited) }()
	deadline := time.Now().Add(30 * time.Second)
	for apiConnections(t, d.cmd.Process.Pid, sock) < 2 {
		if isClosed(gcExited) {
			t.Fatalf("gc finished while a pull was in flight: %v", finish(gc, gcWaitErr, gcOut.Bytes(), gcErr.Bytes(), start))
		}
		if time.Now().After(deadline) {
			t.Fatalf("the daemon never had 2 API connections (pull + gc) within 30s; log:\n%s", readFile(t, d.log))
		}
		time.Sleep(20 * time.Millisecond) // poll interval, bounded by the deadline
	}
	if isClosed(gcExited) {
		t.Fatalf("gc finished while a pull was in flight: %v", finish(gc, gcWaitErr, gcOut.Bytes(), gcErr.Bytes(), start))
	}
	gc.Process.Signal(os.Interrupt)
	select {
	case <-gcExited:
		t.Logf("gc after Ctrl-C: %v", finish(gc, gcWaitErr, gcOut.Bytes(), gcErr.Bytes(), start))
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

	if _, err := io.Copy(h, stdout); err != nil {
		t.Fatalf("reading the rest of the pull: %v", err)
	}
	err = pull.Wait()
	pullWaited = true
	if res := finish(pull, err, nil, pullErr.Bytes(), start); res.code != 0 {
		t.Fatalf("the held pull failed: %v", res)
	}
	if got := h.Sum(nil); !bytes.Equal(got, wantSum[:]) {
		t.Errorf("the held pull wrote other bytes than the same pull before (sha256 %x, want %x)", got, wantSum)
	}
	// The abandoned gc took nothing: both images are pinned and whole.
	if n := r.gc(); n != 0 {
		t.Errorf("gc removed %d blocks of a repo holding only pinned images", n)
	}
	wantVerifyClean(t, r)
	d.stop(t)
}
