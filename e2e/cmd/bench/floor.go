package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// floorServer is a running `wirefloor serve` holding a layout's blobs.
type floorServer struct {
	*proc
	bin  string
	ns   *netns
	addr string
}

func startFloor(bin string, ns *netns, work, layout string) *floorServer {
	blobs, err := filepath.Glob(filepath.Join(layout, "blobs", "sha256", "*"))
	check(err, "list the layout's blobs")
	addrFile := filepath.Join(work, "wirefloor.addr")
	os.Remove(addrFile)
	f := &floorServer{bin: bin, ns: ns}
	f.proc = start(spec{name: "wirefloor-serve", ns: ns, argv: append([]string{bin, "serve", "-addr-file", addrFile}, blobs...)})
	// It hashes every blob before it listens, at about 1 GB/s here.
	mustPoll("wirefloor serve listening", 5*time.Minute, []*proc{f.proc}, func() (bool, string) {
		raw, err := os.ReadFile(addrFile)
		if err != nil {
			return false, err.Error()
		}
		f.addr = string(raw)
		return true, ""
	})
	return f
}

// fetch is one `wirefloor fetch`, with the server's CPU during it. It
// ends the bench if the bytes received are not the layout's.
func (f *floorServer) fetch(want int64) outcome {
	cpu0 := f.cpuTime()
	o := run(spec{name: "wirefloor-fetch", ns: f.ns, argv: []string{f.bin, "fetch", f.addr}, stdout: &bytes.Buffer{}})
	o.serverCPU = f.cpuTime() - cpu0
	if got, err := strconv.ParseInt(strings.TrimSpace(o.stdout), 10, 64); err != nil || got != want {
		fatalf("wirefloor fetch received %q bytes, want %d", o.stdout, want)
	}
	return o
}
