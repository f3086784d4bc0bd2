package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// kuboRepo is one Kubo repo (IPFS_PATH) initialised as the e2e tests do:
// the test profile (loopback listeners, no bootstrap peers, no mDNS, no
// autoconf) plus the unixfs-v1-2025 import profile, which is what makes
// `ipfs add -r` of a layout build the DAG imgp2p push builds.
type kuboRepo struct {
	bin  string
	path string
	ns   *netns
	tag  string
}

func newKuboRepo(bin, dir string, ns *netns, tag string) *kuboRepo {
	k := &kuboRepo{bin: bin, path: dir, ns: ns, tag: tag}
	run(k.spec("init", "init", "--empty-repo", "--profile", "test,unixfs-v1-2025"))
	for key, want := range map[string]string{
		"Import.CidVersion":         "1",
		"Import.UnixFSRawLeaves":    "true",
		"Import.UnixFSChunker":      "size-1048576",
		"Import.UnixFSFileMaxLinks": "1024",
		"Import.UnixFSDAGLayout":    "balanced",
	} {
		got, err := k.spec("config", "config", key).output(30 * time.Second)
		check(err, "reading Kubo's config")
		if strings.TrimSpace(got) != want {
			fatalf("after ipfs init --profile test,unixfs-v1-2025: %s = %s, want %s", key, strings.TrimSpace(got), want)
		}
	}
	return k
}

func (k *kuboRepo) spec(name string, args ...string) spec {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "IPFS_") && !strings.HasPrefix(kv, "LIBP2P_") {
			env = append(env, kv)
		}
	}
	// Telemetry is off by environment so that not even an attempt is made.
	env = append(env, "IPFS_PATH="+k.path, "IPFS_TELEMETRY=off")
	return spec{name: k.tag + "-" + name, ns: k.ns, argv: append([]string{k.bin}, args...), env: env}
}

// add imports dir with `ipfs add -r` (no daemon: Kubo opens the repo
// itself, like imgp2p push) and returns the root CID.
func (k *kuboRepo) add(dir string) (outcome, string) {
	s := k.spec("add", "add", "-r", "--hidden", "--progress=false", "-Q", dir)
	s.stdout = &bytes.Buffer{}
	o := run(s)
	return o, strings.TrimSpace(o.stdout)
}

type kuboDaemon struct {
	*proc
	repo     *kuboRepo
	ID, Addr string // Addr: its loopback TCP multiaddr with /p2p/ID
}

// daemon starts `ipfs daemon` and returns once its API answers `ipfs id`
// with a loopback swarm address.
func (k *kuboRepo) daemon() *kuboDaemon {
	d := &kuboDaemon{repo: k, proc: start(k.spec("daemon", "daemon"))}
	mustPoll(d.name+" ready", time.Minute, []*proc{d.proc}, func() (bool, string) {
		// Kubo writes $IPFS_PATH/api once it serves its API; asked
		// earlier, the CLI would open the repo itself.
		if _, err := os.Stat(filepath.Join(k.path, "api")); err != nil {
			return false, "no api file yet"
		}
		out, err := k.spec("id", "id").output(10 * time.Second)
		if err != nil {
			return false, err.Error()
		}
		var id struct {
			ID        string
			Addresses []string
		}
		if json.Unmarshal([]byte(out), &id) != nil {
			return false, out
		}
		for _, a := range id.Addresses {
			if strings.HasPrefix(a, "/ip4/127.0.0.1/tcp/") && strings.Contains(a, "/p2p/") {
				d.ID, d.Addr = id.ID, a
				return true, ""
			}
		}
		return false, out
	})
	return d
}

// connect dials addr and checks that `ipfs swarm peers` lists it.
func (d *kuboDaemon) connect(addr string) {
	_, err := d.repo.spec("connect", "swarm", "connect", addr).output(30 * time.Second)
	check(err, "ipfs swarm connect")
	id := addr[strings.LastIndex(addr, "/")+1:]
	mustPoll("Kubo connected to "+id, 10*time.Second, []*proc{d.proc}, func() (bool, string) {
		out, err := d.repo.spec("peers", "swarm", "peers").output(10 * time.Second)
		return err == nil && strings.Contains(out, id), out
	})
}

// Ways for a Kubo daemon to fetch a whole DAG from its peers.
const (
	// kuboPin is `ipfs pin add`: every block fetched and stored,
	// many at a time (merkledag.FetchGraph), nothing written out.
	kuboPin = "pin"
	// kuboExport is `ipfs dag export > /dev/null`: every block fetched
	// and stored, in DAG order, and streamed out as a CAR.
	kuboExport = "export"
)

// fetch makes the daemon fetch every block under cid.
func (d *kuboDaemon) fetch(cid, how string) outcome {
	var s spec
	switch how {
	case kuboPin:
		s = d.repo.spec("pin-add", "pin", "add", "--progress=false", cid)
	case kuboExport:
		s = d.repo.spec("dag-export", "dag", "export", "--progress=false", cid)
		s.stdout = devNull
	default:
		fatalf("unknown -kubo-fetch %q: want %s or %s", how, kuboPin, kuboExport)
	}
	return run(s)
}
