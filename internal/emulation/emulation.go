// Package emulation tells a test whether it runs as a binary for another
// architecture under a user-mode emulator (qemu-user, as
// `go test -exec qemu-aarch64-static` runs one), where everything is several
// times slower: a budget of wall time measured on real hardware means
// little there. Only tests import it.
package emulation

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// kernelMachine is the machine name a kernel of GOARCH's own architecture
// reports (uname -m).
var kernelMachine = map[string]string{"amd64": "x86_64", "arm64": "aarch64"}

// Detect reports whether this process is emulated, and the evidence. It
// says yes only on positive evidence, so a test on real hardware never
// takes the emulated path.
var Detect = sync.OnceValues(func() (bool, string) {
	arch, _ := os.ReadFile("/proc/sys/kernel/arch")
	exe, _ := os.Readlink("/proc/thread-self/exe")
	return detect(runtime.GOARCH, strings.TrimSpace(string(arch)), exe)
})

// detect is Detect on given facts: goarch is the binary's architecture,
// kernelArch the kernel's (empty if unknown) and threadExe what
// /proc/thread-self/exe names (empty if unknown).
//
// qemu-user answers uname(2) with the emulated machine and fakes
// /proc/self/exe and /proc/self/maps, but /proc/sys passes through to the
// kernel: /proc/sys/kernel/arch (Linux 6.1 and later) is the real machine.
// On older kernels, /proc/thread-self/exe, which qemu 7.2 does not fake,
// names the emulator itself, as it does under binfmt_misc.
func detect(goarch, kernelArch, threadExe string) (bool, string) {
	if want, ok := kernelMachine[goarch]; ok && kernelArch != "" && kernelArch != want {
		return true, fmt.Sprintf("GOARCH=%s binary on a kernel for %s", goarch, kernelArch)
	}
	if strings.HasPrefix(filepath.Base(threadExe), "qemu-") {
		return true, "run by " + threadExe
	}
	return false, ""
}
