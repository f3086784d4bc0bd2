package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// spec is a command to run: in a namespace of the bench's, with an
// environment, its stdout going somewhere.
type spec struct {
	name   string // for logs and errors
	ns     *netns // nil: the bench's own network namespace
	argv   []string
	env    []string  // nil: the bench's environment
	stdout io.Writer // nil: the log file, with stderr
}

func (s spec) command(ctx context.Context) *exec.Cmd {
	argv := s.argv
	if s.ns != nil {
		argv = s.ns.wrap(argv...)
	}
	// `ip netns exec` execs the command in place: the PID, signals, exit
	// status and resource usage seen here are the command's own.
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = s.env
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 30 * time.Second
	return cmd
}

// output runs a short command (an id, a readiness probe) and returns its
// stdout, or an error carrying its output.
func (s spec) output(timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := s.command(ctx)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s: %v: %s", strings.Join(s.argv, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// proc is a process the bench started and owns until it has exited.
type proc struct {
	spec
	cmd     *exec.Cmd
	log     string // stderr (and stdout unless captured)
	started time.Time
	samp    *sampler
	// inherited is the bench's own peak RSS when p was started: Linux
	// carries it into the child's rusage maxrss (os/exec forks sharing
	// the parent's memory), so a maxrss not above it says nothing.
	inherited int64 // KiB

	done    chan struct{}
	err     error
	elapsed time.Duration
	cancel  context.CancelFunc
}

// outcome is what one process cost: wall time, memory and CPU.
type outcome struct {
	elapsed time.Duration
	stdout  string
	// peakMB is the peak RSS as the kernel counts it (VmHWM, or the
	// rusage maxrss once the process has exited).
	peakMB float64
	// anonMB and fileMB are the sampled peaks of RSS's two parts:
	// anonymous memory (heap, stacks) and file-backed pages mapped into
	// the process (page cache, which the kernel reclaims under pressure,
	// but which peak RSS counts).
	anonMB, fileMB float64
	cpu            time.Duration // user + system
	serverCPU      time.Duration // of the peer or registry serving it, if any
	ttfb           time.Duration // of an HTTP client: to the first body byte
	// When the figure is the median of several runs: how many, and
	// the fastest and slowest times.
	reps             int
	fastest, slowest time.Duration
}

func (o outcome) mbps(bytes int64) float64 { return float64(bytes) / o.elapsed.Seconds() / 1e6 }

var (
	logDir string
	logSeq atomic.Int64
)

// start runs s in the background, logging to a file of its own.
func start(s spec) *proc {
	if s.env == nil {
		s.env = os.Environ()
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &proc{spec: s, cmd: s.command(ctx), done: make(chan struct{}), cancel: cancel}
	p.log = filepath.Join(logDir, fmt.Sprintf("%03d-%s.log", logSeq.Add(1), s.name))
	f, err := os.Create(p.log)
	check(err, "creating a log file")
	p.cmd.Stderr = f
	p.cmd.Stdout = f
	if s.stdout != nil {
		p.cmd.Stdout = s.stdout
	}
	p.inherited = selfHWM()
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		f.Close()
		cancel()
		fatalf("%s: starting %v: %v", s.name, p.cmd.Args, err)
	}
	p.samp = sampleRSS(p.cmd.Process.Pid)
	go func() {
		p.err = p.cmd.Wait()
		p.elapsed = time.Since(p.started)
		p.samp.stop()
		f.Close()
		cancel()
		untrackProc(p)
		close(p.done)
	}()
	if !trackProc(p) {
		p.kill()
		fatalf("stopping")
	}
	return p
}

// run runs s to completion; a failure ends the bench.
func run(s spec) outcome {
	return start(s).wait()
}

// wait waits for p to exit on its own; a failure ends the bench.
func (p *proc) wait() outcome {
	<-p.done
	if p.err != nil {
		fatalf("%s failed: %v: %v\n%s", p.name, p.cmd.Args, p.err, p.logTail())
	}
	return p.outcome()
}

// outcome is p's cost once it has exited.
func (p *proc) outcome() outcome {
	o := outcome{elapsed: p.elapsed}
	if b, ok := p.stdout.(*bytes.Buffer); ok {
		o.stdout = b.String()
	}
	anon, file, hwm := p.samp.peaks()
	o.anonMB, o.fileMB = kibToMB(anon), kibToMB(file)
	// The kernel's maxrss when it is the child's own; else the last
	// VmHWM sampled, which can miss only a peak in its last 20 ms.
	o.peakMB = kibToMB(hwm)
	if st := p.cmd.ProcessState; st != nil {
		if ru, ok := st.SysUsage().(*syscall.Rusage); ok && ru.Maxrss > p.inherited {
			o.peakMB = kibToMB(ru.Maxrss)
		}
		o.cpu = st.UserTime() + st.SystemTime()
	}
	return o
}

// now is p's cost so far, while it runs: peak RSS (VmHWM) and CPU.
func (p *proc) now() outcome {
	anon, file, hwm := p.samp.peaks()
	return outcome{elapsed: time.Since(p.started), peakMB: kibToMB(hwm), anonMB: kibToMB(anon), fileMB: kibToMB(file), cpu: p.cpuTime()}
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop asks p to exit (SIGINT) and waits, killing it after 30 s. A
// non-zero exit is reported, not fatal: the measurement is already taken.
func (p *proc) stop() outcome {
	if !p.exited() {
		p.cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			fmt.Fprintf(os.Stderr, "bench: %s still running 30 s after SIGINT; killing it\n", p.name)
			p.cmd.Process.Kill()
			<-p.done
		}
		var exit *exec.ExitError
		if p.err != nil && !errors.As(p.err, &exit) || exit != nil && exit.ExitCode() > 0 {
			fmt.Fprintf(os.Stderr, "bench: %s exited with %v after SIGINT\n%s", p.name, p.err, p.logTail())
		}
	}
	return p.outcome()
}

// kill is stop for the clean-up path: shorter patience, no report.
func (p *proc) kill() {
	if p.exited() {
		return
	}
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *proc) logTail() string {
	raw, _ := os.ReadFile(p.log)
	const keep = 3000
	if len(raw) > keep {
		raw = append([]byte("…"), raw[len(raw)-keep:]...)
	}
	return fmt.Sprintf("--- %s (%s) ---\n%s\n", p.name, p.log, raw)
}

// cpuTime reads p's user+system time from /proc (clock ticks of 10 ms,
// USER_HZ being 100 on Linux).
func (p *proc) cpuTime() time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	s := string(raw)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	// After the command name: state is field 3, utime 14, stime 15.
	if len(fields) < 13 {
		return 0
	}
	var ut, st int64
	fmt.Sscan(fields[11], &ut)
	fmt.Sscan(fields[12], &st)
	return time.Duration(ut+st) * 10 * time.Millisecond
}
