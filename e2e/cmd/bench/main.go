// Command bench measures imgp2p's core paths on this machine and prints a
// markdown table, each figure next to a baseline measured in the same run:
//
//	go run ./e2e/cmd/bench                 # 1 GiB image in 4 layers
//	go run ./e2e/cmd/bench -mib 256 -layers 2
//
// Rows: sha256 over the layout's blobs (the limit for push), push of the
// layout, pull of it from a daemon on loopback to /dev/null, and a pull
// with every block already local; peak RSS of push and of both pulls. All
// nodes listen on 127.0.0.1 with mDNS off, so nothing leaves loopback.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

func main() {
	mib := flag.Int("mib", 1024, "image size in MiB")
	layers := flag.Int("layers", 4, "number of layers")
	bin := flag.String("bin", "", "imgp2p binary (default: build one)")
	generate := flag.String("generate", "", "internal: write the layout to this directory and exit")
	flag.Parse()
	if *generate != "" {
		writeLayout(*generate, *mib, *layers)
		return
	}
	work, err := os.MkdirTemp("", "imgp2p-bench-")
	check(err)
	defer os.RemoveAll(work)
	if *bin == "" {
		*bin = filepath.Join(work, "imgp2p")
		run(exec.Command("go", "build", "-o", *bin, "github.com/imgp2p/imgp2p"), "CGO_ENABLED=0")
	}
	dir := filepath.Join(work, "layout")
	// Generated in a child process: Linux carries a process's peak RSS
	// across exec, so this process must stay small for the children's
	// figures to be their own.
	self, err := os.Executable()
	check(err)
	run(exec.Command(self, "-mib", fmt.Sprint(*mib), "-layers", fmt.Sprint(*layers), "-generate", dir))
	size := blobBytes(dir)

	shaTime := timeSHA256(dir)
	b := bencher{bin: *bin, work: work}
	push := b.imgp2p(nil, "a", "push", dir)
	cid := strings.TrimSpace(push.stdout)

	daemon := b.start("a", "daemon", "--listen", "/ip4/127.0.0.1/tcp/0", "--mdns=false")
	defer daemon.Process.Signal(os.Interrupt)
	addr := b.waitAddr("a")
	pull := b.imgp2p(io.Discard, "b", "pull", "--mdns=false", "--peer", addr, cid)
	local := b.imgp2p(io.Discard, "b", "pull", "--offline", cid)

	mb := func(d time.Duration) float64 { return float64(size) / d.Seconds() / 1e6 }
	fmt.Printf("imgp2p bench: %d MiB image in %d layers (%d bytes of blobs)\n\n", *mib, *layers, size)
	fmt.Println("| measure | time | MB/s | ratio | peak RSS | of which anon | of which file-backed |")
	fmt.Println("|---|---|---|---|---|---|---|")
	fmt.Printf("| sha256 of the blobs (baseline) | %v | %.0f | 1.00 | | | |\n", shaTime.Round(time.Millisecond), mb(shaTime))
	row := func(name string, o outcome, ratio float64) {
		fmt.Printf("| %s | %v | %.0f | %.2f | %d MB | %d MB | %d MB |\n", name, o.elapsed.Round(time.Millisecond), mb(o.elapsed), ratio, o.rssMB, o.anonMB, o.fileMB)
	}
	row("push (vs sha256)", push, shaTime.Seconds()/push.elapsed.Seconds())
	row("pull, all blocks local (baseline)", local, 1)
	row("pull from a loopback peer (vs local)", pull, local.elapsed.Seconds()/pull.elapsed.Seconds())
	fmt.Printf("\npull summary: %s", pull.stderr)
}

func writeLayout(dir string, mib, layers int) {
	img, err := random.Image(int64(mib)<<20/int64(layers), int64(layers))
	check(err)
	p, err := layout.Write(dir, empty.Index)
	check(err)
	check(p.AppendImage(img))
}

func blobBytes(dir string) int64 {
	var n int64
	entries, err := os.ReadDir(filepath.Join(dir, "blobs", "sha256"))
	check(err)
	for _, e := range entries {
		info, err := e.Info()
		check(err)
		n += info.Size()
	}
	return n
}

// timeSHA256 hashes every blob file: the least work any push must do.
func timeSHA256(dir string) time.Duration {
	start := time.Now()
	entries, err := os.ReadDir(filepath.Join(dir, "blobs", "sha256"))
	check(err)
	for _, e := range entries {
		f, err := os.Open(filepath.Join(dir, "blobs", "sha256", e.Name()))
		check(err)
		h := sha256.New()
		_, err = io.Copy(h, f)
		check(err)
		f.Close()
	}
	return time.Since(start)
}

type bencher struct{ bin, work string }

type outcome struct {
	elapsed        time.Duration
	stdout, stderr string
	rssMB          int64 // peak RSS as the kernel counts it
	anonMB, fileMB int64 // sampled peaks of its two parts
}

func (b bencher) command(repo string, args ...string) *exec.Cmd {
	cmd := exec.Command(b.bin, append([]string{"--repo", filepath.Join(b.work, repo)}, args...)...)
	cmd.Env = append(os.Environ(), "IMGP2P_MDNS=false")
	return cmd
}

// imgp2p runs one command to completion; stdout goes to out, or is kept.
func (b bencher) imgp2p(out io.Writer, repo string, args ...string) outcome {
	cmd := b.command(repo, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if out != nil {
		cmd.Stdout = out
	}
	start := time.Now()
	check(cmd.Start())
	peaks := sampleRSS(cmd.Process.Pid)
	if err := cmd.Wait(); err != nil {
		log.Fatalf("%v: %v\n%s", cmd.Args, err, stderr.String())
	}
	elapsed := time.Since(start)
	p := <-peaks
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return outcome{elapsed: elapsed, stdout: stdout.String(), stderr: stderr.String(), rssMB: ru.Maxrss / 1024, anonMB: p.anon >> 10, fileMB: p.file >> 10}
}

type rssPeaks struct{ anon, file int64 } // KiB

// sampleRSS polls /proc/PID/status until the process is gone and reports
// the peaks of anonymous memory (heap, stacks) and of file-backed pages
// mapped into the process (badger's mmapped value log: page cache, which
// the kernel reclaims under pressure, but which peak RSS counts).
func sampleRSS(pid int) <-chan rssPeaks {
	out := make(chan rssPeaks, 1)
	go func() {
		var p rssPeaks
		for {
			raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
			if err != nil || bytes.Contains(raw, []byte("State:\tZ")) {
				out <- p
				return
			}
			for _, line := range strings.Split(string(raw), "\n") {
				var kib int64
				if _, err := fmt.Sscanf(line, "RssAnon: %d kB", &kib); err == nil {
					p.anon = max(p.anon, kib)
				} else if _, err := fmt.Sscanf(line, "RssFile: %d kB", &kib); err == nil {
					p.file = max(p.file, kib)
				}
			}
			time.Sleep(20 * time.Millisecond) // sampling interval
		}
	}()
	return out
}

func (b bencher) start(repo string, args ...string) *exec.Cmd {
	cmd := b.command(repo, args...)
	cmd.Stderr = os.Stderr
	check(cmd.Start())
	return cmd
}

// waitAddr polls `imgp2p id` until the daemon reports an address.
func (b bencher) waitAddr(repo string) string {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		out, err := b.command(repo, "id").Output()
		var id struct{ Addresses []string }
		if err == nil && json.Unmarshal(out, &id) == nil && len(id.Addresses) > 0 {
			return id.Addresses[0]
		}
		time.Sleep(100 * time.Millisecond) // polling a condition, bounded by the deadline
	}
	log.Fatal("daemon did not come up in 30s")
	return ""
}

func run(cmd *exec.Cmd, env ...string) {
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	check(cmd.Run())
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
