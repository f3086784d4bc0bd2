package e2e

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestDaemonPullWritesClientOutput: a pull through a daemon into a pipe or
// a file, where the daemon writes the client's descriptor itself, gives
// the bytes a daemon-less pull gives; a client interrupted mid-pull stops
// the daemon's writing (its pipe ends well short of the image), and one
// whose reader goes away fails with an error instead of hanging; the
// daemon serves the next pull whole either way.
func TestDaemonPullWritesClientOutput(t *testing.T) {
	r := newRepo(t)
	cid := r.push(randomLayout(t, 48, 711))
	tmp := t.TempDir()
	direct := filepath.Join(tmp, "direct.tar")
	r.ok("pull", "--offline", "-o", direct, cid)
	want := readFile(t, direct)
	r.startDaemon("--mdns=false")

	viaFile := filepath.Join(tmp, "daemon.tar")
	r.ok("pull", "-o", viaFile, cid)
	if !bytes.Equal(readFile(t, viaFile), want) {
		t.Fatal("pull -o through the daemon differs from the daemon-less pull")
	}
	if piped := r.ok("pull", cid); !bytes.Equal(piped.stdout, want) {
		t.Fatalf("pull to a pipe through the daemon: %d bytes, want the %d of the daemon-less pull", len(piped.stdout), len(want))
	}

	t.Run("interrupted", func(t *testing.T) {
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer pr.Close()
		ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
		defer cancel()
		cmd := r.command(ctx, "pull", cid)
		cmd.Stdout = pw
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		pw.Close()
		// The pipe fills and the daemon's write waits on it.
		head := make([]byte, 4096)
		if _, err := io.ReadFull(pr, head); err != nil {
			t.Fatalf("first bytes of the pull: %v", err)
		}
		cmd.Process.Signal(syscall.SIGINT)
		if err := cmd.Wait(); err == nil {
			t.Error("an interrupted pull exited 0")
		}
		// Reading on lets the daemon's write in flight finish; then it
		// must stop and let go of the pipe, long before the image ends.
		rest, err := readUntilEOF(pr, 30*time.Second)
		if err != nil {
			t.Fatalf("the pipe did not close after the client went: %v (%d bytes after it)", err, rest)
		}
		if got := int64(len(head)) + rest; got >= int64(len(want)) {
			t.Errorf("the daemon wrote the whole image (%d bytes) after its client was interrupted", got)
		}
	})

	t.Run("reader gone", func(t *testing.T) {
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
		defer cancel()
		cmd := r.command(ctx, "pull", cid)
		cmd.Stdout = pw
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		pw.Close()
		if _, err := io.ReadFull(pr, make([]byte, 4096)); err != nil {
			t.Fatalf("first bytes of the pull: %v", err)
		}
		pr.Close()
		err = cmd.Wait()
		if err == nil || ctx.Err() != nil {
			t.Errorf("pull into a closed pipe: %v (timed out: %v), want a failure; stderr:\n%s", err, ctx.Err() != nil, stderr.Bytes())
		}
	})

	again := filepath.Join(tmp, "again.tar")
	r.ok("pull", "-o", again, cid)
	if !bytes.Equal(readFile(t, again), want) {
		t.Fatal("the daemon's pull after the interrupted ones differs")
	}
}

// readUntilEOF drains r and returns how many bytes came before EOF, or an
// error if EOF has not come within limit.
func readUntilEOF(r *os.File, limit time.Duration) (int64, error) {
	r.SetReadDeadline(time.Now().Add(limit))
	return io.Copy(io.Discard, r)
}
