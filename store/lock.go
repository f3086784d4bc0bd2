package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

const lockFile = "repo.lock"

// LockedError reports that another live process owns the repo. The kernel
// drops an flock when its holder dies, so a lock file left by a crashed
// process never produces this error.
type LockedError struct {
	Repo string
	PID  int
}

func (e *LockedError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("repo %s is in use by process %d", e.Repo, e.PID)
	}
	return fmt.Sprintf("repo %s is in use by another process", e.Repo)
}

// repoLock is an exclusive advisory lock on the repo directory.
type repoLock struct{ f *os.File }

// acquireLock takes the repo lock without waiting and records our PID in the
// lock file so that a contender can name the owner.
func acquireLock(dir string) (*repoLock, error) {
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open repo lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &LockedError{Repo: dir, PID: LockOwner(dir)}
		}
		return nil, fmt.Errorf("lock repo %s: %w", dir, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &repoLock{f: f}, nil
}

// LockOwner returns the PID recorded by the repo's current owner, or 0.
func LockOwner(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, lockFile))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

func (l *repoLock) release() error {
	// Truncate first so a reader never sees our PID after we let go.
	_ = l.f.Truncate(0)
	return l.f.Close()
}
