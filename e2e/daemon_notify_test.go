package e2e

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDaemonTellsSystemdWhenReady: under a Type=notify unit systemd waits
// for READY=1, and the daemon must send it only once its API answers (a
// unit ordered after it runs `imgp2p pull` at once), then STOPPING=1 as
// it stops. The test plays systemd's part: a datagram socket named by
// $NOTIFY_SOCKET.
func TestDaemonTellsSystemdWhenReady(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	r := newRepo(t)

	msgs := make(chan string, 8)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(msgs)
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	next := func(what string) string {
		t.Helper()
		select {
		case m, ok := <-msgs:
			if !ok {
				t.Fatalf("notify socket closed before %s", what)
			}
			return m
		case <-time.After(30 * time.Second):
			t.Fatalf("no %s message on $NOTIFY_SOCKET within 30s", what)
		}
		return ""
	}

	d := r.startBackground(nil, "daemon", "--listen", "/ip4/127.0.0.1/tcp/0")
	ready := next("READY=1")
	// At READY=1 the API must answer: what systemd starts next uses the
	// daemon at once. Sent any earlier, id would find the repo locked by
	// the daemon and fail.
	info, res := r.id()
	if res.code != 0 {
		t.Fatalf("id right after READY=1: %v", res)
	}
	if !strings.Contains(ready, "READY=1\n") || !strings.Contains(ready, "STATUS=ready (") || !strings.Contains(ready, info.ID) {
		t.Errorf("first message %q, want READY=1 with a STATUS naming the mode and peer ID %s", ready, info.ID)
	}
	if err := d.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if m := next("STOPPING=1"); !strings.Contains(m, "STOPPING=1\n") {
		t.Errorf("message after SIGINT %q, want STOPPING=1", m)
	}
	select {
	case <-d.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("daemon still running 30s after SIGINT; log:\n%s", d.logText())
	}
}
