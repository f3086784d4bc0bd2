package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// Gateway: GETs of every layer of one image, over loopback, from imgp2p's
// read-only registry gateway and from Debian's docker-registry
// (distribution) serving the same image from its filesystem storage: what
// a `docker pull` or a Dockerfile FROM reads. curl is the client for both.

type gatewayBench struct {
	layout testLayout
	layers []v1.Descriptor
	size   int64 // of every layer together

	registry outcome // docker-registry, warm page cache
	local    outcome // imgp2p serve --offline on the repo holding the image
	// peer is a gateway with an empty repo, fetching every block from a
	// loopback peer as it is read: the first GET of an image nobody here
	// has pulled.
	peer outcome
}

const (
	registryPort = "5001"
	gatewayPort  = "5050"
)

func runGateway(t tools, work string, ns *netns, o transferOpts) gatewayBench {
	for _, tool := range []string{"docker-registry", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			fatalf("the gateway section needs %s (Debian packages docker-registry and curl): %v", tool, err)
		}
	}
	var g gatewayBench
	progress("writing a %d MiB layout in %d layers", o.mib, o.layers)
	dir := filepath.Join(work, fmt.Sprintf("gateway-layout-%d", o.mib))
	defer os.RemoveAll(dir)
	g.layout = writeLayout(dir, o.mib, o.layers, o.seed)
	g.layers = layerDescriptors(dir)
	for _, l := range g.layers {
		g.size += l.Size
	}

	progress("docker-registry, filesystem storage")
	regDir := filepath.Join(work, "docker-registry")
	defer os.RemoveAll(regDir)
	reg := startDistribution(t.crane, ns, regDir, "127.0.0.1:"+registryPort)
	defer reg.stop()
	reg.push(dir)
	regURL := func(d v1.Descriptor) string { return reg.blobURL(d.Digest) }

	progress("imgp2p serve --offline, the image in its repo")
	a := newImgp2pRepo(t.imgp2p, filepath.Join(work, "gateway-a"), ns, "gateway-a")
	defer os.RemoveAll(a.path)
	_, cid := a.push(dir)
	gwURL := func(d v1.Descriptor) string {
		return "http://127.0.0.1:" + gatewayPort + "/v2/ipfs/" + cid + "/blobs/" + d.Digest.String()
	}
	gw := a.serve(gatewayPort, "--offline", "--mdns=false")

	// One untimed GET of each from both, checked against its digest: both
	// serve the very same bytes, and both start from a warm page cache.
	for _, l := range g.layers {
		checkBlob(ns, regURL(l), l)
		checkBlob(ns, gwURL(l), l)
	}
	progress("GET of every layer: docker-registry and imgp2p serve, taking turns")
	get := medians(o.reps,
		func(int) outcome { return g.getAll(ns, regURL, reg.proc) },
		func(int) outcome { return g.getAll(ns, gwURL, gw.proc) })
	g.registry, g.local = get[0], get[1]
	g.registry.peakMB, g.local.peakMB = reg.now().peakMB, gw.stop().peakMB

	progress("imgp2p serve with an empty repo, blocks from a loopback peer")
	da := a.daemon("/ip4/127.0.0.1/tcp/", "--listen", "/ip4/127.0.0.1/tcp/0", "--mdns=false")
	defer da.stop()
	g.peer = median(o.reps, func(i int) outcome {
		b := newImgp2pRepo(t.imgp2p, filepath.Join(work, fmt.Sprintf("gateway-b-%d", i)), ns, "gateway-b")
		gb := b.serve(gatewayPort, "--mdns=false", "--swarm-listen", "/ip4/127.0.0.1/tcp/0", "--peer", da.Addr)
		// Timed from a connected node, as a running daemon would be.
		mustPoll(gb.name+" connected to the peer", time.Minute, []*proc{gb.proc, da.proc}, func() (bool, string) {
			ids, out := gb.peers()
			return ids[da.ID], out
		})
		o := g.getAll(ns, gwURL, gb.proc, da.proc)
		o.peakMB = gb.stop().peakMB
		os.RemoveAll(b.path)
		return o
	})
	return g
}

// layerDescriptors lists the layers of the layout's one image.
func layerDescriptors(dir string) []v1.Descriptor {
	p, err := layout.FromPath(dir)
	check(err, "opening the layout")
	idx, err := p.ImageIndex()
	check(err, "reading the layout's index")
	im, err := idx.IndexManifest()
	check(err, "reading the layout's index")
	img, err := idx.Image(im.Manifests[0].Digest)
	check(err, "reading the layout's image")
	m, err := img.Manifest()
	check(err, "reading the image's manifest")
	return m.Layers
}

// curl is curl in namespace ns: fail on HTTP errors, follow redirects.
func curl(ns *netns, name string, args ...string) spec {
	return spec{name: name, ns: ns, argv: append([]string{"curl", "--silent", "--show-error", "--fail", "--location"}, args...)}
}

// checkBlob GETs url and checks the body against d.
func checkBlob(ns *netns, url string, d v1.Descriptor) {
	s := curl(ns, "curl-check", url)
	h := sha256.New()
	s.stdout = h
	run(s)
	if got := fmt.Sprintf("sha256:%x", h.Sum(nil)); got != d.Digest.String() {
		fatalf("GET %s: body hashes to %s, want %s", url, got, d.Digest)
	}
}

// getAll fetches every layer with one curl, in order, to /dev/null, and
// checks each body's size. The outcome is curl's, with the CPU of the
// servers involved and the time to the first layer's first byte.
func (g gatewayBench) getAll(ns *netns, url func(v1.Descriptor) string, servers ...*proc) outcome {
	var args []string
	for _, l := range g.layers {
		args = append(args, "--output", os.DevNull, url(l))
	}
	s := curl(ns, "curl-get", append([]string{"--write-out", "%{size_download} %{time_starttransfer}\n"}, args...)...)
	var out strings.Builder
	s.stdout = &out
	serverCPU := func() (sum time.Duration) {
		for _, p := range servers {
			sum += p.cpuTime()
		}
		return sum
	}
	cpu0 := serverCPU()
	o := run(s)
	o.serverCPU = serverCPU() - cpu0
	lines := strings.Fields(out.String())
	if len(lines) != 2*len(g.layers) {
		fatalf("curl wrote %q for %d layers", out.String(), len(g.layers))
	}
	for i, l := range g.layers {
		n, _ := strconv.ParseInt(lines[2*i], 10, 64)
		if n != l.Size {
			fatalf("GET %s: %d bytes, want %d", url(l), n, l.Size)
		}
	}
	secs, _ := strconv.ParseFloat(lines[1], 64)
	o.ttfb = time.Duration(secs * float64(time.Second))
	return o
}
