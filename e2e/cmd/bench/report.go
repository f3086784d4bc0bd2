package main

import (
	"fmt"
	"io"
	"time"
)

// The four sections' tables. Speed ratios are "× baseline": how many
// times faster than the baseline (above 1 is faster). Memory ratios are
// imgp2p's peak RSS over the baseline's (below 1 is smaller).

func printPush(w io.Writer, r transfer) {
	l := r.layout
	fmt.Fprintf(w, "## Push: %d MiB layout in %d incompressible layers (%d bytes of blobs)\n\n", l.mib, l.layers, l.bytes)
	t := newTable("measure", "time", "MB/s", "× sha256", "× Kubo add", "peak RSS", "anon / file")
	row := func(name string, o outcome, rss bool) {
		peak, parts := "", ""
		if rss {
			peak, parts = mb(o.peakMB), split(o)
		}
		t.row(name, timeCell(o), fmt.Sprintf("%.0f", o.mbps(l.bytes)), ratio(speedup(o, r.sha)), ratio(speedup(o, r.kuboAdd)), peak, parts)
	}
	row("sha256 of every blob (the limit)", r.sha, false)
	row("Kubo `ipfs add -r`, unixfs-v1-2025, offline repo", r.kuboAdd, true)
	row("imgp2p push", r.push, true)
	t.print(w)
	fmt.Fprintf(w, "Issue 7 targets: %s; %s.\n",
		target("push ≥ 0.4× sha256", speedup(r.push, r.sha), speedup(r.push, r.sha) >= 0.4),
		target("push ≥ 1.5× Kubo add", speedup(r.push, r.kuboAdd), speedup(r.push, r.kuboAdd) >= 1.5))
	if r.cid == r.kuboCID {
		fmt.Fprintf(w, "Same root CID from both: %s.\n\n", r.cid)
	} else {
		fmt.Fprintf(w, "**Root CIDs differ**: imgp2p %s, Kubo %s.\n\n", r.cid, r.kuboCID)
	}
}

func printPull(w io.Writer, r transfer) {
	l := r.layout
	fmt.Fprintf(w, "## Pull from one loopback peer: the same %d MiB image (%d bytes of blobs)\n\n", l.mib, l.bytes)
	t := newTable("measure", "time", "MB/s", "× crane pull", "× Kubo→Kubo", "CPU s, puller / server", "peak RSS of", "peak RSS", "anon / file")
	row := func(name string, o, mem outcome, whose string) {
		t.row(name, timeCell(o), fmt.Sprintf("%.0f", o.mbps(l.bytes)), ratio(speedup(o, r.cranePull)), ratio(speedup(o, r.kuboFetch)),
			fmt.Sprintf("%.1f / %.1f", o.cpu.Seconds(), o.serverCPU.Seconds()), whose, mb(mem.peakMB), split(mem))
	}
	kubo := map[string]string{
		kuboPin:    "Kubo→Kubo: daemon B `ipfs pin add` from daemon A",
		kuboExport: "Kubo→Kubo: daemon B `ipfs dag export >/dev/null` from daemon A",
	}[r.kuboHow]
	row("`crane pull` (tarball to /dev/null) from `crane registry serve` (baseline)", r.cranePull, r.cranePull, "crane pull")
	row(kubo+" (baseline)", r.kuboFetch, r.kuboFetch, "daemon B")
	row("imgp2p pull --peer: one-shot, fresh repo, docker-archive to /dev/null", r.pull, r.pull, "the pull")
	row("imgp2p pull through a running daemon connected to the peer", r.daemonPull, r.daemonPull, "that daemon")
	row("imgp2p pull, every block already local (no network)", r.local, r.local, "the pull")
	row("the wire floor: the blobs over one libp2p stream (TCP, TLS, yamux), every 1 MiB chunk and blob hashed, nothing stored", r.floor, r.floor, "the receiver")
	t.print(w)
	fmt.Fprintf(w, "Issue 7 targets: %s; %s.\n",
		target("pull ≥ 2× Kubo→Kubo", speedup(r.pull, r.kuboFetch), speedup(r.pull, r.kuboFetch) >= 2),
		target("pull ≥ 0.8× crane pull", speedup(r.pull, r.cranePull), speedup(r.pull, r.cranePull) >= 0.8))
	fmt.Fprintf(w, "The wire floor is what any pull over libp2p costs before bitswap, storing and the tar (`e2e/cmd/wirefloor`); "+
		"the one-shot pull takes %.2f× its time, and the floor itself is %s crane pull and %s Kubo→Kubo.\n",
		r.pull.elapsed.Seconds()/r.floor.elapsed.Seconds(), ratio(speedup(r.floor, r.cranePull)), ratio(speedup(r.floor, r.kuboFetch)))
	fmt.Fprintf(w, "One-shot pull's summary: `%s`\n\n", r.pullSummary)
}

func printFanout(w io.Writer, f fanout) {
	l := f.layout
	linkBps := float64(f.mbit) * 1e6 / 8
	limit := time.Duration(float64(l.bytes) / linkBps * float64(time.Second))
	fmt.Fprintf(w, "## Fan-out: %d MiB image (%d bytes of blobs), a seeder and N pullers on one bridge\n\n", l.mib, l.bytes)
	fmt.Fprintf(w, "Every host's link: `%s`, on both ends of its veth (each direction capped). "+
		"Registry: `crane registry serve` on the seeder, N concurrent `crane pull`. "+
		"imgp2p: daemons on the seeder and every puller, lan mode, connected by mDNS before the clock starts, "+
		"N concurrent `imgp2p pull` through them. Times run until the last puller has the whole image; "+
		"the link limit (size ÷ one link's rate) is %s.\n\n", f.shaping, secs(limit))
	t := newTable("N", "registry: all done", "imgp2p: all done", "imgp2p × registry",
		"registry T(N)/T(1)", "imgp2p T(N)/T(1)", "imgp2p ÷ link limit", "imgp2p first done")
	cost := newTable("N", "seeder sent ÷ image, registry / imgp2p", "received per puller ÷ image, registry / imgp2p",
		"imgp2p bytes from other pullers", "CPU s, registry / imgp2p", "peak RSS of an imgp2p puller", "mDNS mesh before the clock")
	var reg1, img1 time.Duration
	for _, r := range f.rounds {
		if r.n == 1 {
			reg1, img1 = r.registry.last, r.imgp2p.last
		}
		scale := func(d, one time.Duration) string {
			if one == 0 {
				return "–"
			}
			return ratio(d.Seconds() / one.Seconds())
		}
		share := "–"
		if r.fetched > 0 {
			share = fmt.Sprintf("%.0f%%", 100*float64(r.fetched-r.fromSeeder)/float64(r.fetched))
		}
		images := func(bytes int64, per int) float64 { return float64(bytes) / float64(per) / float64(l.bytes) }
		t.row(fmt.Sprint(r.n), secs(r.registry.last), secs(r.imgp2p.last),
			ratio(r.registry.last.Seconds()/r.imgp2p.last.Seconds()),
			scale(r.registry.last, reg1), scale(r.imgp2p.last, img1),
			ratio(r.imgp2p.last.Seconds()/limit.Seconds()), secs(r.imgp2p.first))
		cost.row(fmt.Sprint(r.n),
			fmt.Sprintf("%.2f / %.2f", images(r.registry.seederSent, 1), images(r.imgp2p.seederSent, 1)),
			fmt.Sprintf("%.2f / %.2f", images(r.registry.pullersGot, r.n), images(r.imgp2p.pullersGot, r.n)),
			share,
			fmt.Sprintf("%.1f / %.1f", r.registry.cpu.Seconds(), r.imgp2p.cpu.Seconds()),
			mb(r.imgp2p.peakMB),
			fmt.Sprintf("%d/%d links in %s", r.meshLinks, r.n*(r.n+1)/2, secs(r.mesh)))
	}
	t.print(w)
	fmt.Fprintf(w, "Traffic (bytes on the wire, from the veths' counters, over the image's size) and cost:\n\n")
	cost.print(w)
	for _, r := range f.rounds {
		if r.n == 8 && img1 > 0 {
			x := r.imgp2p.last.Seconds() / img1.Seconds()
			fmt.Fprintf(w, "Issue 7 target: %s.\n", target("8 pullers finish in ≤ 2× the time one takes", x, x <= 2))
		}
	}
	fmt.Fprintf(w, "\nimgp2p pull summaries:\n\n```\n")
	for _, r := range f.rounds {
		for _, s := range r.summaries {
			fmt.Fprintf(w, "N=%d  %s\n", r.n, s)
		}
	}
	fmt.Fprintf(w, "```\n\n")
}

func printMemory(w io.Writer, r transfer, idle time.Duration) {
	l := r.layout
	fmt.Fprintf(w, "## Memory: %d MiB image (%d bytes of blobs)\n\n", l.mib, l.bytes)
	t := newTable("process", "imgp2p peak RSS", "anon / file", "baseline", "baseline peak RSS", "anon / file", "imgp2p ÷ baseline")
	row := func(name string, o outcome, baseName string, base outcome) {
		t.row(name, mb(o.peakMB), split(o), baseName, mb(base.peakMB), split(base), ratio(o.peakMB/base.peakMB))
	}
	row("push (one-shot)", r.push, "Kubo `ipfs add -r`", r.kuboAdd)
	row("pull --peer (one-shot process)", r.pull, "`crane pull`", r.cranePull)
	row("pull through a running daemon (that daemon)", r.daemonPull, "Kubo daemon fetching", r.kuboFetch)
	row("daemon serving the pull", r.serve, "Kubo daemon serving", r.kuboServe)
	row(fmt.Sprintf("idle daemon, %v after ready, image in repo", idle), r.idle, "idle Kubo daemon", r.kuboIdle)
	t.print(w)
	fmt.Fprintf(w, "Issue 7 target: %s; through a daemon: %s.\n\n",
		target("pull peak RSS ≤ 150 MB", r.pull.peakMB, r.pull.peakMB <= 150),
		target("≤ 150 MB", r.daemonPull.peakMB, r.daemonPull.peakMB <= 150))
}

func printGateway(w io.Writer, g gatewayBench) {
	fmt.Fprintf(w, "## Registry gateway: GET of every layer of a %d MiB image (%d layers, %d bytes), one curl, loopback\n\n", g.layout.mib, len(g.layers), g.size)
	t := newTable("measure", "time", "MB/s", "× docker-registry", "first byte", "CPU s, curl / serving", "server's peak RSS")
	row := func(name string, o outcome) {
		t.row(name, timeCell(o), fmt.Sprintf("%.0f", o.mbps(g.size)), ratio(speedup(o, g.registry)),
			fmt.Sprintf("%.0f ms", o.ttfb.Seconds()*1000), fmt.Sprintf("%.1f / %.1f", o.cpu.Seconds(), o.serverCPU.Seconds()), mb(o.peakMB))
	}
	row("Debian's docker-registry, filesystem storage, warm page cache (baseline)", g.registry)
	row("imgp2p serve --offline, the image in its repo", g.local)
	row("imgp2p serve, empty repo, every block from a loopback peer as it is read", g.peer)
	t.print(w)
	fmt.Fprintf(w, "First byte: of the first layer. CPU: user+system seconds of curl and of what served it (the registry; the gateway; the gateway and its peer). Peak RSS: the registry's or the gateway's, over all runs of its row.\n")
	fmt.Fprintf(w, "Issue 4's goal: %s.\n\n", target("gateway ≥ 0.8× docker-registry", speedup(g.local, g.registry), speedup(g.local, g.registry) >= 0.8))
}
