// Command bench measures imgp2p against baselines measured in the same run
// on the same bytes, and prints markdown tables (stdout; progress goes to
// stderr). It needs root (network namespaces, tc) and runs every process
// in namespaces it makes and deletes, so nothing leaves the machine.
//
//	go run ./e2e/cmd/bench                                  # everything, full size
//	go run ./e2e/cmd/bench -mib 256 -fanout-mib 64 -fanout-n 1,2,4 -rss-mib 512
//	go run ./e2e/cmd/bench -sections fanout -fanout-n 1,8
//
// Sections (-sections, comma-separated):
//
//	push    imgp2p push of a layout vs sha256 of its blobs and Kubo's ipfs add -r
//	pull    pull from one loopback peer vs Kubo→Kubo and crane pull from a registry
//	gateway GETs of every layer from imgp2p serve vs Debian's docker-registry
//	fanout  a seeder and N pullers on shaped links vs N crane pulls from one registry
//	rss     peak RSS of push, pull and an idle daemon on a bigger image, vs Kubo and crane
//
// push and pull share one run at -mib; rss runs the same scenario at
// -rss-mib. README.md beside this file says what each row measures; the
// Performance section of the README at the module root holds the latest
// results, FINDINGS.md what moved them.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

var devNull *os.File

func main() {
	mib := flag.Int("mib", 1024, "image size in MiB for the push and pull sections")
	layers := flag.Int("layers", 4, "number of layers of every image")
	rssMiB := flag.Int("rss-mib", 2048, "image size in MiB for the rss section")
	fanoutMiB := flag.Int("fanout-mib", 192, "image size in MiB for the fan-out section")
	fanoutN := flag.String("fanout-n", "1,2,4,8", "numbers of pullers in the fan-out section, in order")
	mbit := flag.Int("mbit", 100, "fan-out link rate in Mbit/s (each direction of each host's link)")
	burst := flag.String("burst", "64kb", "fan-out links' token bucket (tc size): at least a TSO segment (64kb), or tbf cuts every segment into MTU-sized packets in software, the work a NIC does in hardware")
	meshWait := flag.Duration("mesh-wait", time.Minute, "how long fan-out daemons may take to find each other by mDNS")
	sections := flag.String("sections", "push,pull,gateway,fanout,rss", "sections to run: push, pull, gateway, fanout, rss")
	reps := flag.Int("reps", 3, "runs of each timed operation in the push and pull sections (the median counts)")
	idle := flag.Duration("idle", 10*time.Second, "how long an idle daemon is watched")
	kuboFetch := flag.String("kubo-fetch", kuboPin, "how the Kubo→Kubo baseline fetches the DAG: pin (ipfs pin add) or export (ipfs dag export >/dev/null)")
	bin := flag.String("bin", "", "imgp2p binary (default: build one)")
	kubo := flag.String("kubo", "", "Kubo ipfs binary (default: $IMGP2P_E2E_KUBO, else build e2e/kubo)")
	crane := flag.String("crane", "", "crane binary (default: crane in PATH or GOPATH/bin, else go install it)")
	keep := flag.Bool("keep", false, "keep the work directory (repos, logs) for inspection")
	flag.Parse()

	want := map[string]bool{}
	for _, s := range strings.Split(*sections, ",") {
		switch s = strings.TrimSpace(s); s {
		case "push", "pull", "gateway", "fanout", "rss":
			want[s] = true
		default:
			fmt.Fprintf(os.Stderr, "bench: unknown section %q (want push, pull, gateway, fanout, rss)\n", s)
			os.Exit(2)
		}
	}
	var ns []int
	for _, s := range strings.Split(*fanoutN, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "bench: -fanout-n: %q is not a number of pullers\n", s)
			os.Exit(2)
		}
		ns = append(ns, n)
	}
	if *reps < 1 {
		fmt.Fprintf(os.Stderr, "bench: -reps %d: want at least 1\n", *reps)
		os.Exit(2)
	}
	if *kuboFetch != kuboPin && *kuboFetch != kuboExport {
		fmt.Fprintf(os.Stderr, "bench: -kubo-fetch %q: want %s or %s\n", *kuboFetch, kuboPin, kuboExport)
		os.Exit(2)
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "bench: needs root: every process runs in network namespaces it makes (and fan-out shapes links with tc)")
		os.Exit(2)
	}

	trapSignals()
	work, err := os.MkdirTemp("", "imgp2p-bench-")
	check(err, "making the work directory")
	live.Lock()
	live.work, live.keep = work, *keep
	live.Unlock()
	logDir = filepath.Join(work, "logs")
	check(os.Mkdir(logDir, 0o755), "making the log directory")
	devNull, err = os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	check(err, "opening /dev/null")

	t := findTools(work, *bin, *kubo, *crane)
	prefix := fmt.Sprintf("imgp2p-bench-%d", os.Getpid())
	out := os.Stdout
	fmt.Fprintf(out, "# imgp2p bench, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(out, "%s at `%s`; Kubo %s; crane %s; %s, %d CPUs, %s; load average at start %s.\n\n",
		t.imgp2pVersion, t.commit, t.kuboVersion, t.craneVersion, kernel(), runtime.NumCPU(), memTotal(), loadAvg())

	began := time.Now()
	took := func(what string) {
		progress("%s took %v", what, time.Since(began).Round(time.Second))
		began = time.Now()
	}
	if want["push"] || want["pull"] {
		lo := newNetns(prefix + "-lo")
		r := runTransfer(t, work, lo, transferOpts{mib: *mib, layers: *layers, seed: 1, reps: *reps, idle: *idle, kuboFetch: *kuboFetch})
		if want["push"] {
			printPush(out, r)
		}
		if want["pull"] {
			printPull(out, r)
		}
		lo.del()
		took("push and pull")
	}
	if want["gateway"] {
		lo := newNetns(prefix + "-gw")
		g := runGateway(t, work, lo, transferOpts{mib: *mib, layers: *layers, seed: 3000, reps: *reps})
		printGateway(out, g)
		lo.del()
		took("gateway")
	}
	if want["fanout"] {
		f := runFanout(t, work, prefix, fanoutOpts{mib: *fanoutMiB, layers: *layers, seed: 1000, ns: ns, mbit: *mbit, burst: *burst, meshWait: *meshWait})
		printFanout(out, f)
		took("fan-out")
	}
	if want["rss"] {
		lo := newNetns(prefix + "-rss")
		r := runTransfer(t, work, lo, transferOpts{mib: *rssMiB, layers: *layers, seed: 2000, reps: 1, idle: *idle, kuboFetch: *kuboFetch})
		printMemory(out, r, *idle)
		lo.del()
		took("rss")
	}
	fmt.Fprintf(out, "Load average at the end: %s (other work on the machine skews every figure).\n", loadAvg())
	progress("the bench process's own peak RSS: %.0f MB", kibToMB(selfHWM()))
	cleanup()
}

// loadAvg is the 1, 5 and 15 minute load averages.
func loadAvg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(raw)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "?"
}

func kernel() string {
	raw, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "linux"
	}
	return "linux " + strings.TrimSpace(string(raw))
}

func memTotal() string {
	raw, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "? RAM"
	}
	var kib int64
	for _, line := range strings.Split(string(raw), "\n") {
		if _, err := fmt.Sscanf(line, "MemTotal: %d kB", &kib); err == nil {
			break
		}
	}
	return fmt.Sprintf("%.0f GiB RAM", float64(kib)/(1<<20))
}
