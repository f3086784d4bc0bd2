package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// imgp2pRepo is one imgp2p repo whose commands run in a namespace.
type imgp2pRepo struct {
	bin  string
	path string
	ns   *netns
	tag  string // names its processes in logs
}

func newImgp2pRepo(bin, dir string, ns *netns, tag string) *imgp2pRepo {
	return &imgp2pRepo{bin: bin, path: dir, ns: ns, tag: tag}
}

func (r *imgp2pRepo) spec(name string, args ...string) spec {
	return spec{name: r.tag + "-" + name, ns: r.ns, argv: append([]string{r.bin, "--repo", r.path}, args...)}
}

// push stores the layout and returns its CID.
func (r *imgp2pRepo) push(dir string) (outcome, string) {
	s := r.spec("push", "push", dir)
	s.stdout = &bytes.Buffer{}
	o := run(s)
	return o, strings.TrimSpace(o.stdout)
}

// startPull starts writing the image to /dev/null (a docker-archive), from
// wherever the repo's node finds it.
func (r *imgp2pRepo) startPull(cid string, args ...string) *proc {
	s := r.spec("pull", append(append([]string{"pull"}, args...), cid)...)
	s.stdout = devNull
	return start(s)
}

// summary is the pull summary line of a pull that has exited.
func summary(p *proc) string {
	raw, _ := os.ReadFile(p.log)
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "pulled ") {
			return line
		}
	}
	return ""
}

// imgp2pDaemon is a running `imgp2p daemon`.
type imgp2pDaemon struct {
	*proc
	repo *imgp2pRepo
	ID   string
	Addr string // its address with the given prefix, ending in /p2p/ID
}

// daemon starts `imgp2p daemon args...` and returns once `imgp2p id`
// reports an address starting with addrPrefix.
func (r *imgp2pRepo) daemon(addrPrefix string, args ...string) *imgp2pDaemon {
	d := &imgp2pDaemon{repo: r, proc: start(r.spec("daemon", append([]string{"daemon"}, args...)...))}
	mustPoll(d.name+" ready", time.Minute, []*proc{d.proc}, func() (bool, string) {
		// Asked only once the daemon's API socket exists: earlier, `id`
		// would open the repo itself and race the daemon for it.
		if _, err := os.Stat(filepath.Join(r.path, "api.sock")); err != nil {
			return false, "no api.sock yet"
		}
		out, err := r.spec("id", "id").output(10 * time.Second)
		if err != nil {
			return false, err.Error()
		}
		var id struct {
			ID        string
			Addresses []string
		}
		if err := json.Unmarshal([]byte(out), &id); err != nil {
			return false, out
		}
		for _, a := range id.Addresses {
			if strings.HasPrefix(a, addrPrefix) {
				d.ID, d.Addr = id.ID, a
				return true, ""
			}
		}
		return false, out
	})
	return d
}

// peers lists the IDs of the daemon's connected peers.
func (d *imgp2pDaemon) peers() (map[string]bool, string) {
	out, err := d.repo.spec("peers", "peers").output(10 * time.Second)
	if err != nil {
		return nil, err.Error()
	}
	ids := map[string]bool{}
	for _, line := range strings.Split(out, "\n")[1:] {
		if f := strings.Fields(line); len(f) > 0 {
			ids[f[0]] = true
		}
	}
	return ids, out
}

// serve starts `imgp2p serve` with its gateway on 127.0.0.1:port and
// returns once the gateway answers. Its ID and Addr stay empty.
func (r *imgp2pRepo) serve(port string, args ...string) *imgp2pDaemon {
	addr := "127.0.0.1:" + port
	d := &imgp2pDaemon{repo: r, proc: start(r.spec("serve", append([]string{"serve", "--listen", addr}, args...)...))}
	waitV2(d.proc, r.ns, addr)
	return d
}
