package e2e

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// concurrentPulls is how many pulls run at once against one daemon.
const concurrentPulls = 16

// rssCeiling fails a load test whose daemon's peak RSS passes it: far above
// what was measured (see the test logs), low enough to catch a daemon that
// holds a copy of the image per pull.
const rssCeiling = 1 << 30

// memSampler records a process's memory while a load runs.
type memSampler struct {
	pid     int
	stop    chan struct{}
	done    chan struct{}
	peakRSS int64 // highest VmRSS seen, bytes
}

// sampleMemory resets the process's VmHWM (clear_refs 5, so the figure is
// this load's alone) and polls /proc/PID/status every 20ms until stopped.
func sampleMemory(pid int) *memSampler {
	os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
	m := &memSampler{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(m.done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if st, err := procStatus(pid); err == nil {
				m.peakRSS = max(m.peakRSS, st["VmRSS"])
			}
			select {
			case <-m.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return m
}

// finish stops sampling and returns the peak VmRSS sampled and the
// kernel's own high-water mark, VmHWM, which no sample can miss.
func (m *memSampler) finish(t testing.TB) (peakRSS, hwm int64) {
	t.Helper()
	close(m.stop)
	<-m.done
	st, err := procStatus(m.pid)
	if err != nil {
		t.Fatalf("reading /proc/%d/status: %v", m.pid, err)
	}
	return m.peakRSS, st["VmHWM"]
}

// procStatus reads the kB fields of /proc/PID/status, in bytes.
func procStatus(pid int) (map[string]int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]int64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if f := strings.Fields(v); ok && len(f) == 2 && f[1] == "kB" {
			if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				out[k] = n << 10
			}
		}
	}
	return out, sc.Err()
}

// pullAll runs concurrentPulls pulls of cid at once, the i-th on repos[i]
// (several may be the same repo) with extra args, and checks every output
// against ref's sha256.
func pullAll(t *testing.T, repos []*repo, cid, refSum string, extra ...string) {
	t.Helper()
	dir := t.TempDir()
	results := make([]result, len(repos))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, r := range repos {
		args := append([]string{"pull", "--timeout", "2m", "-o", filepath.Join(dir, fmt.Sprintf("%d.tar", i))}, extra...)
		wg.Go(func() {
			<-start
			results[i] = r.run(nil, append(args, cid)...)
		})
	}
	begin := time.Now()
	close(start)
	wg.Wait()
	var slowest time.Duration
	for i, res := range results {
		if res.code != 0 {
			t.Errorf("pull %d of %d failed: %v", i+1, len(repos), res)
			continue
		}
		slowest = max(slowest, res.elapsed)
		if got := fileSHA256(t, filepath.Join(dir, fmt.Sprintf("%d.tar", i))); got != refSum {
			t.Errorf("pull %d wrote sha256 %s, want %s", i+1, got, refSum)
		}
	}
	t.Logf("%d concurrent pulls: all done in %v, slowest %v", len(repos), time.Since(begin).Round(time.Millisecond), slowest.Round(time.Millisecond))
}

// reportMemory logs a daemon's memory during a load and fails the test if
// its peak passes rssCeiling.
func reportMemory(t *testing.T, name string, before int64, m *memSampler) {
	t.Helper()
	peak, hwm := m.finish(t)
	t.Logf("%s RSS: %d MiB before the load, peak sampled VmRSS %d MiB, VmHWM %d MiB",
		name, before>>20, peak>>20, hwm>>20)
	if hwm > rssCeiling {
		t.Errorf("%s peak RSS %d MiB is over %d MiB", name, hwm>>20, rssCeiling>>20)
	}
}

// TestLoadConcurrentPulls: 16 pulls of a 32 MiB image at once from one
// daemon all succeed with the right bytes; the daemons' peak RSS is logged.
func TestLoadConcurrentPulls(t *testing.T) {
	a := newRepo(t)
	cid := a.push(randomLayout(t, 32, 16))
	da := a.startDaemon()
	ref := filepath.Join(t.TempDir(), "ref.tar")
	a.ok("pull", "--offline", "-o", ref, cid)
	refSum := fileSHA256(t, ref)

	// 16 processes, 16 repos, 16 libp2p nodes, all fetching from A.
	t.Run("fresh-repos", func(t *testing.T) {
		before, _ := procStatus(da.cmd.Process.Pid)
		m := sampleMemory(da.cmd.Process.Pid)
		repos := make([]*repo, concurrentPulls)
		for i := range repos {
			repos[i] = newRepo(t)
		}
		pullAll(t, repos, cid, refSum, "--peer", da.Addr)
		reportMemory(t, "serving daemon", before["VmRSS"], m)
	})

	// 16 pulls through the API of daemon B, which fetches from A once.
	t.Run("through-daemon", func(t *testing.T) {
		b := newRepo(t)
		db := b.startDaemon("--peer", da.Addr)
		beforeA, _ := procStatus(da.cmd.Process.Pid)
		beforeB, _ := procStatus(db.cmd.Process.Pid)
		ma := sampleMemory(da.cmd.Process.Pid)
		mb := sampleMemory(db.cmd.Process.Pid)
		repos := make([]*repo, concurrentPulls)
		for i := range repos {
			repos[i] = b
		}
		pullAll(t, repos, cid, refSum, "--peer", da.Addr)
		reportMemory(t, "serving daemon A", beforeA["VmRSS"], ma)
		reportMemory(t, "pulling daemon B", beforeB["VmRSS"], mb)
		wantVerifyClean(t, b)
		db.stop(t)
	})
	da.stop(t)
}
