package image

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A layout file swapped for a named pipe after it was checked (by whoever
// can write the layout) is refused, not opened to block for good: the
// check is of what was opened.
func TestOpenRegularRefusesAPipeSwappedIn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(path, []byte("layer"), 0o600); err != nil {
		t.Fatal(err)
	}
	betweenStatAndOpen = func(p string) {
		if err := os.Remove(p); err != nil {
			t.Error(err)
		}
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(func() { betweenStatAndOpen = func(string) {} })

	done := make(chan error, 1)
	go func() {
		f, err := openRegular(path)
		if f != nil {
			f.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "a named pipe") {
			t.Errorf("openRegular of a file swapped for a pipe: %v, want it refused as a named pipe", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("openRegular still blocked 10 s on a pipe swapped in for the file")
	}
}
