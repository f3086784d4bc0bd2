package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// A containerd of the test's own (Debian's 1.6), run by hand: root, state,
// socket and config in a temp dir. startContainerd runs it on the host
// with the CRI plugin off: `ctr run` needs the host's cgroup mount, which
// `ip netns exec` hides (it remounts /sys). That is safe: with CRI off and
// no debug or metrics address, containerd opens nothing but its unix
// sockets. What talks to the gateway is the ctr client, which does the
// fetching itself and runs in the gateway's namespace. startCRI runs it
// inside a namespace with CRI on, since CRI fetches images itself.
type containerd struct {
	sock string
	ns   string // containerd namespace for the test's images
}

var containerdReady = sync.OnceValue(func() error {
	for _, tool := range []string{"containerd", "ctr", "runc", "containerd-shim-runc-v2"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s: %v (Debian package containerd)", tool, err)
		}
	}
	return nil
})

func startContainerd(t *testing.T) *containerd {
	t.Helper()
	return launchContainerd(t, onHost, `disabled_plugins = ["io.containerd.grpc.v1.cri"]`, "")
}

// startCRI runs containerd with its CRI plugin, the image service kubelet
// pulls through, in network namespace ns: its stream server on that
// namespace's loopback, the native snapshotter, which works on any
// filesystem. No pod runs, so CNI may find no network config (a warning).
func startCRI(t *testing.T, ns string) *containerd {
	t.Helper()
	return launchContainerd(t, ns, "", `[plugins."io.containerd.grpc.v1.cri"]
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
`)
}

// launchContainerd starts containerd in where (a namespace or onHost),
// with top (keys, which TOML wants before any table) and tables added to
// its config.
func launchContainerd(t *testing.T, where, top, tables string) *containerd {
	t.Helper()
	need(t, "containerd", containerdReady())
	// /tmp keeps the socket path short (sun_path is 108 bytes).
	dir, err := os.MkdirTemp("/tmp", "imgp2p-ctrd-")
	if err != nil {
		t.Fatal(err)
	}
	// Registered first, so it runs after containerd has stopped.
	t.Cleanup(func() {
		unmountUnder(dir)
		os.RemoveAll(dir)
	})
	c := &containerd{sock: filepath.Join(dir, "c.sock"), ns: "imgp2p-e2e"}
	config := fmt.Sprintf(`version = 2
%[5]s
root = %[1]q
state = %[2]q
[grpc]
  address = %[3]q
[ttrpc]
  address = "%[3]s.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = %[4]q
%[6]s`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), c.sock, filepath.Join(dir, "opt"), top, tables)
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	argv := []string{"containerd", "--config", cfg, "--log-level", "warn"}
	if where != onHost {
		argv = inNamespace(where, argv...)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := startProc(t, "containerd", exec.CommandContext(ctx, argv[0], argv[1:]...), cancel, false)

	deadline := time.Now().Add(60 * time.Second)
	for {
		out, err := exec.Command("ctr", "--address", c.sock, "version").CombinedOutput()
		if err == nil {
			return c
		}
		if p.done() {
			t.Fatalf("containerd exited (%v); log:\n%s", p.err, p.logText())
		}
		if time.Now().After(deadline) {
			t.Fatalf("containerd not ready after 60s: %v %s; log:\n%s", err, out, p.logText())
		}
		time.Sleep(100 * time.Millisecond) // poll interval; the deadline bounds the loop
	}
}

// argv is a ctr command line against this containerd.
func (c *containerd) argv(args ...string) []string {
	return append([]string{"ctr", "--address", c.sock, "--namespace", c.ns}, args...)
}

// unmountUnder lazily unmounts whatever is mounted below dir, deepest first.
func unmountUnder(dir string) {
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return
	}
	var mounts []string
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(f[1], dir+"/") {
			mounts = append(mounts, f[1])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(mounts)))
	for _, m := range mounts {
		exec.Command("umount", "-l", m).Run()
	}
}
