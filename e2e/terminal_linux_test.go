package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// openPTY opens a pseudo-terminal pair with plain syscalls (no cgo, no new
// dependency): the test holds the master, the command gets the slave.
func openPTY() (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	var unlock int32
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		master.Close()
		return nil, nil, e
	}
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		master.Close()
		return nil, nil, e
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	return master, slave, nil
}

// TestPullRefusesTerminal: a tar is never sprayed onto a terminal.
func TestPullRefusesTerminal(t *testing.T) {
	r := newRepo(t)
	cid := r.push(helloLayout(t))
	master, slave, err := openPTY()
	need(t, "pseudo-terminal", err)
	defer master.Close()

	// Drain the master so that a pull that does write to the terminal fails
	// the assertions below instead of blocking on a full pty buffer.
	var onTTY bytes.Buffer
	drained := make(chan struct{})
	go func() { io.Copy(&onTTY, master); close(drained) }()

	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := r.command(ctx, "pull", "--offline", cid)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = slave, &stderr
	err = cmd.Run()
	slave.Close() // with the last slave fd closed, the master reads EIO
	select {
	case <-drained:
	case <-time.After(10 * time.Second):
		t.Fatal("pty master did not reach EOF")
	}
	if err == nil {
		t.Errorf("pull to a terminal succeeded; it wrote %d bytes there", onTTY.Len())
	}
	if onTTY.Len() > 0 {
		t.Errorf("pull wrote %d bytes to the terminal: %.200q", onTTY.Len(), onTTY.Bytes())
	}
	if len(bytes.TrimSpace(stderr.Bytes())) == 0 {
		t.Errorf("refusal has no message on stderr")
	}
}
