package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// kuboVersion is the Kubo the interop tests are written against; e2e/kubo
// builds exactly this version.
const kuboVersion = "0.43.1"

// kuboPath is the Kubo `ipfs` binary named by IMGP2P_E2E_KUBO. Kubo cannot be
// `go install`ed, so e2e/kubo (a module of its own) builds it and .ci/run
// exports its path.
var kuboPath = sync.OnceValues(func() (string, error) {
	p := os.Getenv("IMGP2P_E2E_KUBO")
	if p == "" {
		return "", errors.New("IMGP2P_E2E_KUBO is unset; build Kubo with " +
			"`(cd e2e/kubo && go build -o /tmp/ipfs .)` and export IMGP2P_E2E_KUBO=/tmp/ipfs (.ci/run does both)")
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("IMGP2P_E2E_KUBO: %w", err)
	}
	return p, nil
})

// kubo is one Kubo repo (IPFS_PATH) of the test's own, initialised with the
// test profile (loopback listeners, no bootstrap peers, no mDNS, no autoconf)
// and the unixfs-v1-2025 import profile. Every ipfs process runs inside the
// test namespace, so nothing Kubo does can leave the machine.
type kubo struct {
	t    testing.TB
	path string // IPFS_PATH
	home string
	d    *kuboDaemon // the running daemon, if any
}

// needKubo skips (outside CI) or fails (in CI) a test that lacks Kubo,
// imgp2p or the test namespace: every interop test needs all three, so it
// checks before starting any of them.
func needKubo(t testing.TB) {
	t.Helper()
	_, err := kuboPath()
	need(t, "Kubo", err)
	need(t, "imgp2p binary", binErr)
	need(t, "network namespace", netnsErr)
}

func newKubo(t testing.TB) *kubo {
	t.Helper()
	needKubo(t)
	dir := t.TempDir()
	k := &kubo{t: t, path: filepath.Join(dir, "ipfs"), home: dir}
	if v := strings.TrimSpace(string(k.ok("version", "--number").stdout)); v != kuboVersion {
		t.Fatalf("IMGP2P_E2E_KUBO is Kubo %s, want %s (e2e/kubo builds it)", v, kuboVersion)
	}
	k.ok("init", "--empty-repo", "--profile", "test,unixfs-v1-2025")
	// The import profile is what makes Kubo's CIDs comparable with imgp2p's:
	// fail loudly if this Kubo spells it differently.
	for key, want := range map[string]string{
		"Import.CidVersion":                        "1",
		"Import.UnixFSRawLeaves":                   "true",
		"Import.UnixFSChunker":                     "size-1048576",
		"Import.UnixFSFileMaxLinks":                "1024",
		"Import.UnixFSDAGLayout":                   "balanced",
		"Import.UnixFSHAMTDirectorySizeEstimation": "block",
		"Bootstrap":                                "[]",
	} {
		if got := strings.TrimSpace(string(k.ok("config", key).stdout)); got != want {
			t.Fatalf("after ipfs init --profile test,unixfs-v1-2025: %s = %s, want %s", key, got, want)
		}
	}
	return k
}

// command is `ipfs args...` on k's repo inside the test namespace.
func (k *kubo) command(ctx context.Context, args ...string) *exec.Cmd {
	bin, _ := kuboPath()
	argv := inNetns(append([]string{bin}, args...)...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var env []string
	for _, kv := range childEnv(k.home) {
		if !strings.HasPrefix(kv, "IPFS_") && !strings.HasPrefix(kv, "LIBP2P_") {
			env = append(env, kv)
		}
	}
	// Telemetry is off by env so that not even a failed attempt is made.
	cmd.Env = append(env, "IPFS_PATH="+k.path, "IPFS_TELEMETRY=off")
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

func (k *kubo) run(args ...string) result {
	k.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	return execute(k.command(ctx, args...), nil)
}

// ok runs ipfs and fails the test unless it exits 0.
func (k *kubo) ok(args ...string) result {
	k.t.Helper()
	res := k.run(args...)
	if res.code != 0 {
		k.t.Fatalf("ipfs failed: %v%s", res, k.daemonLog())
	}
	return res
}

func (k *kubo) daemonLog() string {
	if k.d == nil {
		return ""
	}
	return fmt.Sprintf("\nKubo daemon log:\n%s", readFile(k.t, k.d.log))
}

// kuboAdd is what `ipfs add -r` reported: the CID of every file and
// directory it imported, by path relative to the parent of the added dir.
type kuboAdd struct {
	Root string            // the CID of the added directory itself
	CIDs map[string]string // path → CID
}

// add runs `ipfs add -r` of dir with the repo's import settings (the
// unixfs-v1-2025 profile) plus extra flags such as --only-hash. Hidden files
// count too, so a stray dotfile cannot hide from a CID comparison.
func (k *kubo) add(dir string, extra ...string) kuboAdd {
	k.t.Helper()
	args := append([]string{"add", "-r", "--hidden", "--progress=false"}, extra...)
	res := k.ok(append(args, dir)...)
	a := kuboAdd{CIDs: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(res.stdout))
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), " ", 3)
		if len(f) != 3 || f[0] != "added" {
			k.t.Fatalf("unexpected line %q from %v", sc.Text(), res)
		}
		a.CIDs[f[2]] = f[1]
	}
	a.Root = a.CIDs[filepath.Base(dir)]
	if a.Root == "" {
		k.t.Fatalf("ipfs add -r %s reported no CID for the directory itself: %v", dir, res)
	}
	return a
}

// kuboDaemon is a running `ipfs daemon` on a kubo repo.
type kuboDaemon struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error
	log    string
	// Addr is the daemon's loopback TCP multiaddr with /p2p/ID.
	Addr string
	ID   string
}

// startDaemon runs `ipfs daemon` and returns once its API answers `ipfs id`
// with a loopback swarm address. The daemon is stopped when the test ends.
func (k *kubo) startDaemon() *kuboDaemon {
	k.t.Helper()
	if k.d != nil {
		k.t.Fatal("test harness: Kubo daemon already running")
	}
	log := filepath.Join(k.home, "daemon.log")
	f, err := os.Create(log)
	if err != nil {
		k.t.Fatal(err)
	}
	defer f.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := k.command(ctx, "daemon")
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		cancel()
		k.t.Fatal(err)
	}
	d := &kuboDaemon{cmd: cmd, exited: make(chan struct{}), log: log}
	k.d = d
	go func() { d.err = cmd.Wait(); cancel(); close(d.exited) }()
	k.t.Cleanup(func() { d.stop(k.t) })

	// The daemon writes $IPFS_PATH/api once it holds the repo and serves its
	// API. Only then is `ipfs id` asked: run earlier, the CLI would open the
	// repo itself and could take the lock from under the starting daemon.
	deadline := time.Now().Add(60 * time.Second)
	var last result
	for {
		if _, err := os.Stat(filepath.Join(k.path, "api")); err == nil {
			last = k.run("id")
			var info idInfo
			if last.code == 0 && json.Unmarshal(last.stdout, &info) == nil {
				for _, a := range info.Addresses {
					if strings.HasPrefix(a, "/ip4/127.0.0.1/tcp/") && strings.Contains(a, "/p2p/") {
						d.Addr, d.ID = a, info.ID
						return d
					}
				}
			}
		}
		select {
		case <-d.exited:
			k.t.Fatalf("ipfs daemon exited before it was ready (%v); log:\n%s", d.err, readFile(k.t, log))
		default:
		}
		if time.Now().After(deadline) {
			k.t.Fatalf("ipfs daemon not ready after 60s; log:\n%s\nlast id: %v", readFile(k.t, log), last)
		}
		time.Sleep(100 * time.Millisecond) // poll interval; the loop's deadline is what bounds it
	}
}

// stop sends SIGINT and expects a clean exit in bounded time. Idempotent.
func (d *kuboDaemon) stop(t testing.TB) {
	t.Helper()
	select {
	case <-d.exited:
		return
	default:
	}
	d.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-d.exited:
		if d.err != nil {
			t.Errorf("ipfs daemon exited with %v after SIGINT; log:\n%s", d.err, readFile(t, d.log))
		}
	case <-time.After(30 * time.Second):
		d.cmd.Process.Kill()
		<-d.exited
		t.Errorf("ipfs daemon still running 30s after SIGINT; log:\n%s", readFile(t, d.log))
	}
}

// connect dials addr from the running Kubo daemon and waits until
// `ipfs swarm peers` lists the peer.
func (k *kubo) connect(addr string) {
	k.t.Helper()
	k.ok("swarm", "connect", addr)
	id := addr[strings.LastIndex(addr, "/")+1:]
	if peers := k.ok("swarm", "peers").stdout; !bytes.Contains(peers, []byte(id)) {
		k.t.Fatalf("ipfs swarm connect %s succeeded but swarm peers lists only:\n%s", addr, peers)
	}
}
