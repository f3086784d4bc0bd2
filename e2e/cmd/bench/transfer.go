package main

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"
)

// transfer is one machine's push and pull of one layout, with the
// baselines measured on the same bytes in the same run: sha256, Kubo's
// `ipfs add -r`, a Kubo→Kubo transfer, `crane pull` from `crane registry
// serve` and the wire floor. Every process runs in one loopback-only
// namespace.
type transfer struct {
	layout  testLayout
	cid     string
	kuboCID string

	sha     outcome
	kuboAdd outcome
	push    outcome

	// imgp2p: daemon A (holding the pushed image) serves one-shot pulls
	// into fresh repos B and pulls through running daemons C, taking
	// turns with the baselines' runs.
	idle        outcome // daemon A after the idle window (Kubo's daemon A starting alongside)
	pull        outcome // the one-shot pull process
	pullSummary string
	serve       outcome // daemon A once every pull is done
	daemonPull  outcome // `imgp2p pull` through daemon C: its wall time, C's memory
	local       outcome // pull with every block local (B, --offline)

	// Kubo: daemon KA (holding the added DAG) serves daemon KB.
	kuboIdle  outcome // KA after the idle window (imgp2p's daemon A starting alongside)
	kuboFetch outcome // the `ipfs` client command's wall time, KB's memory
	kuboServe outcome // KA once every fetch is done
	kuboHow   string
	cranePull outcome
	// floor: the image's blobs over a bare libp2p stream with a pull's
	// two checks and nothing stored (e2e/cmd/wirefloor).
	floor outcome
}

type transferOpts struct {
	mib, layers int
	seed        uint64
	reps        int           // each timed operation runs this often; the median counts
	idle        time.Duration // how long an idle daemon is watched
	kuboFetch   string
}

func runTransfer(t tools, work string, ns *netns, o transferOpts) transfer {
	dir := func(name string, rep int) string {
		return filepath.Join(work, fmt.Sprintf("%s-%d-%d", name, o.mib, rep))
	}
	var dirs []string
	fresh := func(name string, rep int) string {
		d := dir(name, rep)
		dirs = append(dirs, d)
		return d
	}
	// Repos of earlier repetitions go as soon as they are done with.
	drop := func(name string, rep int) { os.RemoveAll(dir(name, rep)) }
	defer func() {
		for _, d := range dirs {
			os.RemoveAll(d)
		}
	}()
	var r transfer
	progress("writing a %d MiB layout in %d layers", o.mib, o.layers)
	r.layout = writeLayout(fresh("layout", 0), o.mib, o.layers, o.seed)
	last := o.reps - 1

	progress("sha256 of the blobs, ipfs add -r (offline Kubo repo) and imgp2p push, taking turns")
	var ka *kuboRepo
	var a *imgp2pRepo
	push := medians(o.reps,
		func(int) outcome { return timeSHA256(r.layout) },
		func(i int) outcome {
			ka = newKuboRepo(t.kubo, fresh("kubo-a", i), ns, "kubo-a")
			o, cid := ka.add(r.layout.dir)
			r.kuboCID = cid
			if i < last {
				drop("kubo-a", i)
			}
			return o
		},
		func(i int) outcome {
			a = newImgp2pRepo(t.imgp2p, fresh("imgp2p-a", i), ns, "imgp2p-a")
			o, cid := a.push(r.layout.dir)
			r.cid = cid
			if i < last {
				drop("imgp2p-a", i)
			}
			return o
		})
	r.sha, r.kuboAdd, r.push = push[0], push[1], push[2]
	if r.cid != r.kuboCID {
		progress("warning: imgp2p push gave %s, ipfs add -r %s: the Kubo→Kubo row moves another DAG", r.cid, r.kuboCID)
	}

	// Every server first, then the pulls take turns: a machine slowing
	// down during the section slows imgp2p and its baselines alike.
	loopback := []string{"--listen", "/ip4/127.0.0.1/tcp/0", "--mdns=false"}
	da := a.daemon("/ip4/127.0.0.1/tcp/", loopback...)
	dka := ka.daemon()
	// A measurement window, not synchronisation: whatever an idle daemon
	// does in its first seconds (reproviding, DHT upkeep) counts.
	time.Sleep(o.idle)
	r.idle, r.kuboIdle = da.now(), dka.now()
	reg := startRegistry(t.crane, ns, "127.0.0.1:5000", fresh("registry", 0), "loop")
	reg.push(r.layout.dir)
	floor := startFloor(t.wirefloor, ns, work, r.layout.dir)
	r.kuboHow = o.kuboFetch

	progress("crane pull, Kubo → Kubo (%s), imgp2p pull --peer, imgp2p pull through a daemon and the wire floor, taking turns", o.kuboFetch)
	var b *imgp2pRepo
	pulls := medians(o.reps,
		func(int) outcome {
			cpu0 := reg.cpuTime()
			o := run(reg.cranePull(ns, "loop"))
			o.serverCPU = reg.cpuTime() - cpu0
			return o
		},
		func(i int) outcome {
			kb := newKuboRepo(t.kubo, fresh("kubo-b", i), ns, "kubo-b")
			dkb := kb.daemon()
			dkb.connect(dka.Addr)
			cpu0, cpuB := dka.cpuTime(), dkb.cpuTime()
			o := dkb.fetch(r.kuboCID, r.kuboHow)
			// What counts is the daemon doing the fetch, not the client.
			d := dkb.now()
			o.peakMB, o.anonMB, o.fileMB = d.peakMB, d.anonMB, d.fileMB
			o.cpu += d.cpu - cpuB
			o.serverCPU = dka.cpuTime() - cpu0
			dkb.stop()
			drop("kubo-b", i)
			return o
		},
		func(i int) outcome {
			b = newImgp2pRepo(t.imgp2p, fresh("imgp2p-b", i), ns, "imgp2p-b")
			cpu0 := da.cpuTime()
			p := b.startPull(r.cid, "--mdns=false", "--peer", da.Addr)
			o := p.wait()
			o.serverCPU = da.cpuTime() - cpu0
			if i == last {
				r.pullSummary = summary(p)
			} else {
				drop("imgp2p-b", i)
			}
			return o
		},
		func(i int) outcome {
			c := newImgp2pRepo(t.imgp2p, fresh("imgp2p-c", i), ns, "imgp2p-c")
			dc := c.daemon("/ip4/127.0.0.1/tcp/", append(loopback, "--peer", da.Addr)...)
			cpu0, cpuC := da.cpuTime(), dc.cpuTime()
			o := c.startPull(r.cid).wait()
			// The daemon's figures travel with its pull's.
			d := dc.now()
			o.peakMB, o.anonMB, o.fileMB = d.peakMB, d.anonMB, d.fileMB
			o.cpu += d.cpu - cpuC
			o.serverCPU = da.cpuTime() - cpu0
			dc.stop()
			drop("imgp2p-c", i)
			return o
		},
		func(int) outcome { return floor.fetch(r.layout.bytes) })
	r.cranePull, r.kuboFetch, r.pull, r.daemonPull, r.floor = pulls[0], pulls[1], pulls[2], pulls[3], pulls[4]
	r.serve, r.kuboServe = da.now(), dka.now()
	da.stop()
	dka.stop()
	reg.stop()
	floor.stop()

	progress("imgp2p pull, every block local")
	r.local = median(o.reps, func(int) outcome { return b.startPull(r.cid, "--offline").wait() })
	return r
}

// median runs f reps times and returns the outcome with the median time,
// noting the fastest and slowest.
func median(reps int, f func(rep int) outcome) outcome { return medians(reps, f)[0] }

// medians runs each of fs reps times, taking turns (round i starts with
// fs[i mod len(fs)]), and returns each one's median outcome: a machine
// that slows down during the section (a busy disk) slows all of them
// alike, so their ratios hold.
func medians(reps int, fs ...func(rep int) outcome) []outcome {
	all := make([][]outcome, len(fs))
	for i := range max(reps, 1) {
		for k := range fs {
			j := (i + k) % len(fs)
			// Every run starts with nothing dirty in the page cache: what
			// an earlier step left unwritten (Kubo's add never fsyncs, for
			// one) would otherwise be written back during this run, on
			// its time.
			syscall.Sync()
			all[j] = append(all[j], fs[j](i))
		}
	}
	out := make([]outcome, len(fs))
	for j := range fs {
		out[j] = middle(all[j])
	}
	return out
}

// middle is the outcome with the median time, noting the fastest and
// slowest.
func middle(all []outcome) outcome {
	slices.SortFunc(all, func(a, b outcome) int { return cmp.Compare(a.elapsed, b.elapsed) })
	m := all[len(all)/2]
	m.fastest, m.slowest, m.reps = all[0].elapsed, all[len(all)-1].elapsed, len(all)
	return m
}
