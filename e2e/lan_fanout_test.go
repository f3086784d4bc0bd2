package e2e

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestLANSixPullersOneSeeder: six hosts on one bridge pull the same image
// at once through their daemons from one seeder, every link at 100 Mbit/s.
// None is stuck, every copy is the seeder's, the seeder's link carries
// well under six images (the pullers serve each other), no daemon takes a
// busy peer for a vanished one, and each daemon's memory stays bounded.
func TestLANSixPullersOneSeeder(t *testing.T) {
	const pullers, mib = 6, 32
	l := newLAN(t)
	hs := l.host("seeder")
	seeder := hs.repo(t)
	cid := seeder.push(randomLayout(t, mib, 11))
	want := filepath.Join(t.TempDir(), "want.tar")
	seeder.ok("pull", "-o", want, cid)
	ds := hs.daemon(seeder)
	l.shape(hs, "100mbit")

	hosts := make([]*lanHost, pullers)
	repos := make([]*repo, pullers)
	daemons := make([]*daemon, pullers)
	for i := range pullers {
		hosts[i] = l.host(fmt.Sprint("p", i))
		repos[i] = hosts[i].repo(t)
		daemons[i] = hosts[i].daemon(repos[i])
		l.shape(hosts[i], "100mbit")
	}
	// Each sees the seeder and another puller: a swarm pull from the start.
	for i := range pullers {
		waitPeer(t, repos[i], ds.ID, "mdns", hs.IP)
		j := (i + 1) % pullers
		waitPeer(t, repos[i], daemons[j].ID, "mdns", hosts[j].IP)
	}

	sent := txBytes(t, hs)
	begin := time.Now()
	results := make([]result, pullers)
	var wg sync.WaitGroup
	for i := range pullers {
		wg.Go(func() {
			results[i] = repos[i].run(nil, "pull", "--timeout", "1m", "-o", filepath.Join(t.TempDir(), "got.tar"), cid)
		})
	}
	wg.Wait()
	all := time.Since(begin)
	images := float64(txBytes(t, hs)-sent) / float64(mib<<20)
	ref := readFile(t, want)
	for i, res := range results {
		if res.code != 0 {
			t.Errorf("puller %d failed: %v", i, res)
			continue
		}
		t.Logf("puller %d: %s", i, lastLine(res.stderr))
		if !bytes.Equal(readFile(t, res.argv[len(res.argv)-2]), ref) {
			t.Errorf("puller %d wrote something else than the seeder's image", i)
		}
	}
	t.Logf("%d pullers of %d MiB: all done in %v; the seeder sent %.2f images", pullers, mib, all.Round(100*time.Millisecond), images)
	if images > pullers-2 {
		t.Errorf("the seeder sent %.2f images to %d pullers: they did not serve each other", images, pullers)
	}
	for i, d := range append(daemons, ds) {
		if log := readFile(t, d.log); bytes.Contains(log, []byte("stopped answering")) {
			t.Errorf("daemon %d dropped a peer as silent in a healthy swarm:\n%s", i, log)
		}
		st, err := procStatus(d.cmd.Process.Pid)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("daemon %d: VmHWM %d MiB", i, st["VmHWM"]>>20)
		if st["VmHWM"] > 512<<20 {
			t.Errorf("daemon %d peaked at %d MiB", i, st["VmHWM"]>>20)
		}
	}
}
