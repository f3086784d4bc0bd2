package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// qemuAarch64 runs linux/arm64 binaries on any Linux host (Debian's
// qemu-user-static, which .ci/run installs). It is named on each command
// line rather than registered with binfmt_misc, which would change how the
// whole machine runs foreign binaries.
const qemuAarch64 = "qemu-aarch64-static"

// arm64Exe returns the command line that runs the linux/arm64 imgp2p
// under qemu: IMGP2P_E2E_ARM64_BINARY (a release build, say) or one built
// from this tree, as the e2e binary is. Without qemu it skips, or fails
// under CI.
func arm64Exe(t *testing.T) []string {
	t.Helper()
	need(t, "imgp2p binary", binErr)
	qemu, err := exec.LookPath(qemuAarch64)
	need(t, qemuAarch64+" (Debian package qemu-user-static)", err)
	bin := os.Getenv("IMGP2P_E2E_ARM64_BINARY")
	if bin == "" {
		if bin, err = buildBinary(t.TempDir(), "arm64"); err != nil {
			t.Fatalf("building imgp2p for linux/arm64: %v", err)
		}
	} else if _, err := os.Stat(bin); err != nil {
		t.Fatalf("IMGP2P_E2E_ARM64_BINARY: %v", err)
	}
	// The binary must really be the arm64 build, and run: `version` names
	// the platform it was built for.
	out, err := exec.Command(qemu, bin, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), " linux/arm64,") {
		t.Fatalf("%s %s version: %v, printed %q; want an imgp2p built for linux/arm64", qemu, bin, err, out)
	}
	return []string{qemu, bin}
}

// newArm64Repo is newRepo whose commands run the arm64 imgp2p of exe
// (from arm64Exe).
func newArm64Repo(t *testing.T, exe []string) *repo {
	t.Helper()
	r := newRepo(t)
	r.exe = exe
	return r
}
