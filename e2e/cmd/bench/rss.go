package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// selfHWM is the bench process's own peak RSS in KiB.
func selfHWM() int64 {
	raw, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(raw), "\n") {
		var kib int64
		if _, err := fmt.Sscanf(line, "VmHWM: %d kB", &kib); err == nil {
			return kib
		}
	}
	return 0
}

func kibToMB(kib int64) float64 { return float64(kib) * 1024 / 1e6 }

// sampler polls /proc/PID/status for the peaks of RssAnon and RssFile
// (which the kernel does not keep) and for VmHWM, until stopped.
type sampler struct {
	mu              sync.Mutex
	anon, file, hwm int64 // KiB
	quit            chan struct{}
	exited          chan struct{}
}

const sampleEvery = 20 * time.Millisecond

func sampleRSS(pid int) *sampler {
	s := &sampler{quit: make(chan struct{}), exited: make(chan struct{})}
	path := fmt.Sprintf("/proc/%d/status", pid)
	go func() {
		defer close(s.exited)
		t := time.NewTicker(sampleEvery)
		defer t.Stop()
		for {
			raw, err := os.ReadFile(path)
			if err != nil || bytes.Contains(raw, []byte("State:\tZ")) {
				return
			}
			s.mu.Lock()
			for _, line := range strings.Split(string(raw), "\n") {
				var kib int64
				if _, err := fmt.Sscanf(line, "RssAnon: %d kB", &kib); err == nil {
					s.anon = max(s.anon, kib)
				} else if _, err := fmt.Sscanf(line, "RssFile: %d kB", &kib); err == nil {
					s.file = max(s.file, kib)
				} else if _, err := fmt.Sscanf(line, "VmHWM: %d kB", &kib); err == nil {
					s.hwm = max(s.hwm, kib)
				}
			}
			s.mu.Unlock()
			select {
			case <-s.quit:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// stop ends sampling (the process has exited and its PID may be reused).
func (s *sampler) stop() {
	close(s.quit)
	<-s.exited
}

func (s *sampler) peaks() (anon, file, hwm int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.anon, s.file, s.hwm
}
