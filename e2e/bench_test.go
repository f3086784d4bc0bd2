package e2e

import (
	"fmt"
	"path/filepath"
	"testing"
)

// Benchmarks are not part of the CI run (go test runs none without -bench):
//
//	bash .ci/run ./e2e/ -run '^$' -bench . -benchtime 3x

const benchMiB = 64

// BenchmarkPush: importing a layout with one big incompressible layer.
func BenchmarkPush(b *testing.B) {
	layout := randomLayout(b, benchMiB, 1)
	b.SetBytes(benchMiB << 20)
	for i := 0; b.Loop(); i++ {
		newRepo(b).push(layout)
	}
}

// BenchmarkPeerPull: a fresh repo fetching a big image from a daemon over
// loopback TCP, written to a docker-archive.
func BenchmarkPeerPull(b *testing.B) {
	a := newRepo(b)
	d := a.startDaemon()
	cid := a.push(randomLayout(b, benchMiB, 2))
	out := b.TempDir()
	b.SetBytes(benchMiB << 20)
	for i := 0; b.Loop(); i++ {
		newRepo(b).ok("pull", "--peer", d.Addr, "-o", filepath.Join(out, fmt.Sprint(i)+".tar"), cid)
	}
}
