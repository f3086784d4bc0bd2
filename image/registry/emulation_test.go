package registry

// Whether a test runs as a binary for another architecture under a
// user-mode emulator (qemu-user, as .ci/run's `go test -exec
// qemu-aarch64-static` runs the arm64 build), where everything is several
// times slower: a budget of wall time measured on real hardware means
// little there. Only TestDistinctDigestsIsLinear needs to know.

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// kernelMachine is the machine name a kernel of GOARCH's own architecture
// reports (uname -m).
var kernelMachine = map[string]string{"amd64": "x86_64", "arm64": "aarch64"}

// detectEmulation reports whether this process is emulated, and the
// evidence. It says yes only on positive evidence, so a test on real
// hardware never takes the emulated path.
var detectEmulation = sync.OnceValues(func() (bool, string) {
	arch, _ := os.ReadFile("/proc/sys/kernel/arch")
	exe, _ := os.Readlink("/proc/thread-self/exe")
	return emulatedGiven(runtime.GOARCH, strings.TrimSpace(string(arch)), exe)
})

// emulatedGiven is detectEmulation on given facts: goarch is the binary's
// architecture, kernelArch the kernel's (empty if unknown) and threadExe
// what /proc/thread-self/exe names (empty if unknown).
//
// qemu-user answers uname(2) with the emulated machine and fakes
// /proc/self/exe and /proc/self/maps, but /proc/sys passes through to the
// kernel: /proc/sys/kernel/arch (Linux 6.1 and later) is the real machine.
// On older kernels, /proc/thread-self/exe, which qemu 7.2 does not fake,
// names the emulator itself, as it does under binfmt_misc.
func emulatedGiven(goarch, kernelArch, threadExe string) (bool, string) {
	if want, ok := kernelMachine[goarch]; ok && kernelArch != "" && kernelArch != want {
		return true, fmt.Sprintf("GOARCH=%s binary on a kernel for %s", goarch, kernelArch)
	}
	if strings.HasPrefix(filepath.Base(threadExe), "qemu-") {
		return true, "run by " + threadExe
	}
	return false, ""
}

func TestDetectEmulation(t *testing.T) {
	for _, tc := range []struct {
		name                    string
		goarch, kernelArch, exe string
		want                    bool
	}{
		{"amd64 on its own kernel", "amd64", "x86_64", "/tmp/go-build1/b001/store.test", false},
		{"arm64 on its own kernel", "arm64", "aarch64", "/tmp/store.test", false},
		{"arm64 on an old kernel", "arm64", "", "/tmp/store.test", false},
		{"nothing known", "arm64", "", "", false},
		{"an architecture not in the table", "riscv64", "riscv64", "/tmp/x.test", false},
		{"arm64 under qemu-user", "arm64", "x86_64", "/usr/bin/qemu-aarch64-static", true},
		{"arm64 under qemu-user, exe hidden", "arm64", "x86_64", "", true},
		{"amd64 under an emulator on arm64", "amd64", "aarch64", "/usr/bin/box64", true},
		{"arm64 under qemu-user on an old kernel", "arm64", "", "/usr/bin/qemu-aarch64-static", true},
		{"binfmt_misc's qemu", "riscv64", "", "/usr/bin/qemu-riscv64", true},
	} {
		got, why := emulatedGiven(tc.goarch, tc.kernelArch, tc.exe)
		if got != tc.want || got != (why != "") {
			t.Errorf("%s: emulatedGiven(%q, %q, %q) = %v, %q; want %v with a reason iff emulated",
				tc.name, tc.goarch, tc.kernelArch, tc.exe, got, why, tc.want)
		}
	}
}

// TestDetectEmulationOfThisProcess checks detectEmulation against what the runner knows:
// .ci/run sets IMGP2P_EXPECT_EMULATED to 1 for its qemu-user step and to 0
// for the native one, so a qemu that hides itself better one day fails
// here rather than as a flaky time budget elsewhere.
func TestDetectEmulationOfThisProcess(t *testing.T) {
	got, why := detectEmulation()
	if got != (why != "") {
		t.Fatalf("detectEmulation() = %v, %q: a reason must come with yes, and only with yes", got, why)
	}
	t.Logf("emulated: %v %s", got, why)
	switch want := os.Getenv("IMGP2P_EXPECT_EMULATED"); want {
	case "":
	case "0", "1":
		if got != (want == "1") {
			t.Errorf("detectEmulation() = %v (%s), but IMGP2P_EXPECT_EMULATED=%s", got, why, want)
		}
	default:
		t.Fatalf("IMGP2P_EXPECT_EMULATED=%q, want 0 or 1", want)
	}
}
