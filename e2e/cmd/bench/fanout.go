package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
)

// Fan-out: a seeder and N pullers on a bridged LAN of namespaces, each
// host's link capped in both directions. For each N, the same N hosts pull
// the same image twice: with crane from one registry on the seeder (the
// seeder's link is the bottleneck, so time grows with N), then with imgp2p
// daemons that find each other by mDNS (pullers can serve each other).

type fanout struct {
	layout  testLayout
	shaping string
	mbit    int
	rounds  []fanoutRound
}

type fanoutRound struct {
	n        int
	registry pullWave
	imgp2p   pullWave
	// mesh is how long the daemons took to all connect to each other by
	// mDNS before the imgp2p pulls started (not part of their time), and
	// meshLinks how many of the n(n+1)/2 links there were then.
	mesh       time.Duration
	meshLinks  int
	fromSeeder int64 // bytes the imgp2p pullers got from the seeder
	fetched    int64 // bytes they fetched in all
	summaries  []string
}

// pullWave is N pulls started together.
type pullWave struct {
	first, last time.Duration // when the first and the last one finished
	cpu         time.Duration // every process involved, pulls and servers
	peakMB      float64       // the largest peak RSS of a pulling process
	// Bytes on the wire during the wave: what the seeder's link sent and
	// what the pullers' links received, all of them together.
	seederSent, pullersGot int64
}

// counters reads the seeder's sent and the pullers' received bytes.
func counters(seeder *lanHost, pullers []*lanHost) (sent, got int64) {
	_, sent = seeder.traffic()
	for _, h := range pullers {
		rx, _ := h.traffic()
		got += rx
	}
	return sent, got
}

// wire sets the wave's traffic from counters taken before it.
func (w *pullWave) wire(seeder *lanHost, pullers []*lanHost, sent0, got0 int64) {
	sent, got := counters(seeder, pullers)
	w.seederSent, w.pullersGot = sent-sent0, got-got0
}

type fanoutOpts struct {
	mib, layers int
	seed        uint64
	ns          []int
	mbit        int
	burst       string
	meshWait    time.Duration
}

func runFanout(t tools, work, prefix string, o fanoutOpts) fanout {
	maxN := 0
	for _, n := range o.ns {
		maxN = max(maxN, n)
	}
	f := fanout{mbit: o.mbit}
	progress("fan-out: writing a %d MiB layout", o.mib)
	f.layout = writeLayout(filepath.Join(work, "fanout-layout"), o.mib, o.layers, o.seed)
	defer os.RemoveAll(f.layout.dir)

	progress("fan-out: a LAN of a seeder and %d pullers, links shaped to %d Mbit/s", maxN, o.mbit)
	l := newLAN(prefix)
	seeder := l.host("seed")
	var pullers []*lanHost
	for i := range maxN {
		pullers = append(pullers, l.host(fmt.Sprintf("p%d", i+1)))
	}
	f.shaping = l.shape(fmt.Sprintf("%dmbit", o.mbit), o.burst)

	seedRepo := newImgp2pRepo(t.imgp2p, filepath.Join(work, "fanout-seed"), seeder.ns, "seed")
	_, cid := seedRepo.push(f.layout.dir)
	reg := startRegistry(t.crane, seeder.ns, seeder.IP+":5000", filepath.Join(work, "fanout-registry"), "fanout")
	reg.push(f.layout.dir)

	for _, n := range o.ns {
		r := fanoutRound{n: n}
		progress("fan-out N=%d: crane pull from the registry on the seeder", n)
		r.registry = registryWave(reg, seeder, pullers[:n])
		progress("fan-out N=%d: imgp2p daemons, pulls through them", n)
		imgp2pWave(t, work, &r, seeder, seedRepo, pullers[:n], cid, o.meshWait)
		f.rounds = append(f.rounds, r)
	}
	reg.stop()
	for _, h := range append(pullers, seeder) {
		h.ns.del()
	}
	l.bridge.del()
	return f
}

func registryWave(reg *registry, seeder *lanHost, hosts []*lanHost) pullWave {
	before := reg.cpuTime()
	sent0, got0 := counters(seeder, hosts)
	t0 := time.Now()
	var procs []*proc
	for _, h := range hosts {
		procs = append(procs, start(reg.cranePull(h.ns, h.name)))
	}
	w := collect(t0, procs)
	w.cpu += reg.cpuTime() - before
	w.wire(seeder, hosts, sent0, got0)
	return w
}

// collect waits for every pull and reports when they finished, counted
// from t0, and what they cost.
func collect(t0 time.Time, procs []*proc) pullWave {
	w := pullWave{first: time.Duration(1<<63 - 1)}
	for _, p := range procs {
		o := p.wait()
		end := p.started.Add(o.elapsed).Sub(t0)
		w.first, w.last = min(w.first, end), max(w.last, end)
		w.cpu += o.cpu
		w.peakMB = max(w.peakMB, o.peakMB)
	}
	return w
}

func imgp2pWave(t tools, work string, r *fanoutRound, seeder *lanHost, seedRepo *imgp2pRepo, hosts []*lanHost, cid string, meshWait time.Duration) {
	daemonOn := func(h *lanHost, repo *imgp2pRepo) *imgp2pDaemon {
		return repo.daemon("/ip4/"+h.IP+"/tcp/", "--listen", "/ip4/"+h.IP+"/tcp/4001")
	}
	seed := daemonOn(seeder, seedRepo)
	daemons := []*imgp2pDaemon{seed}
	for _, h := range hosts {
		dir := filepath.Join(work, "fanout-"+h.name)
		os.RemoveAll(dir)
		daemons = append(daemons, daemonOn(h, newImgp2pRepo(t.imgp2p, dir, h.ns, h.name)))
	}

	// Wait (bounded) until every daemon has found every other by mDNS, as
	// on a LAN whose daemons have been up for a while.
	var procs []*proc
	for _, d := range daemons {
		procs = append(procs, d.proc)
	}
	t0 := time.Now()
	want := len(daemons) * (len(daemons) - 1) / 2
	ok, _ := pollUntil(meshWait, procs, func() (bool, string) {
		r.meshLinks = links(daemons)
		return r.meshLinks == want, fmt.Sprintf("%d of %d links", r.meshLinks, want)
	})
	r.mesh = time.Since(t0)
	if !ok {
		progress("warning: after %v only %d of %d daemon pairs are connected; pulling anyway", meshWait, r.meshLinks, want)
	}

	cpu0 := map[*imgp2pDaemon]time.Duration{}
	for _, d := range daemons {
		cpu0[d] = d.cpuTime()
	}
	sent0, got0 := counters(seeder, hosts)
	t0 = time.Now()
	var pulls []*proc
	for _, d := range daemons[1:] {
		pulls = append(pulls, d.repo.startPull(cid, "--timeout", "10m"))
	}
	r.imgp2p = collect(t0, pulls)
	r.imgp2p.wire(seeder, hosts, sent0, got0)
	for _, d := range daemons {
		now := d.now()
		r.imgp2p.cpu += now.cpu - cpu0[d]
		if d != seed {
			r.imgp2p.peakMB = max(r.imgp2p.peakMB, now.peakMB)
		}
	}
	short := "…" + seed.ID[len(seed.ID)-8:]
	for _, p := range pulls {
		s := summary(p)
		r.summaries = append(r.summaries, s)
		for who, n := range peerBytes(s) {
			r.fetched += n
			if who == short {
				r.fromSeeder += n
			}
		}
	}
	for _, d := range daemons {
		d.stop()
		if d != seed {
			os.RemoveAll(d.repo.path)
		}
	}
}

// links counts the connected pairs among the daemons.
func links(daemons []*imgp2pDaemon) int {
	n := 0
	for i, d := range daemons {
		peers, _ := d.peers()
		for _, other := range daemons[i+1:] {
			if peers[other.ID] {
				n++
			}
		}
	}
	return n
}

// peerBytes reads the per-peer bytes of a pull summary, "… from 2
// peer(s) […abcdefgh 12 MiB, …ijklmnop 52 MiB], …", keyed by the short
// peer ID.
func peerBytes(summary string) map[string]int64 {
	out := map[string]int64{}
	_, rest, ok := strings.Cut(summary, " peer(s) [")
	if !ok {
		return out
	}
	list, _, _ := strings.Cut(rest, "]")
	for _, item := range strings.Split(list, ", ") {
		who, size, ok := strings.Cut(item, " ")
		if !ok {
			continue
		}
		if n, err := humanize.ParseBytes(size); err == nil {
			out[who] = int64(n)
		}
	}
	return out
}
