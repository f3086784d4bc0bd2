package emulation

import (
	"os"
	"testing"
)

func TestDetect(t *testing.T) {
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
		got, why := detect(tc.goarch, tc.kernelArch, tc.exe)
		if got != tc.want || got != (why != "") {
			t.Errorf("%s: detect(%q, %q, %q) = %v, %q; want %v with a reason iff emulated",
				tc.name, tc.goarch, tc.kernelArch, tc.exe, got, why, tc.want)
		}
	}
}

// TestDetectThisProcess checks Detect against what the runner knows:
// .ci/run sets IMGP2P_EXPECT_EMULATED to 1 for its qemu-user step and to 0
// for the native one, so a qemu that hides itself better one day fails
// here rather than as a flaky time budget elsewhere.
func TestDetectThisProcess(t *testing.T) {
	got, why := Detect()
	if got != (why != "") {
		t.Fatalf("Detect() = %v, %q: a reason must come with yes, and only with yes", got, why)
	}
	t.Logf("emulated: %v %s", got, why)
	switch want := os.Getenv("IMGP2P_EXPECT_EMULATED"); want {
	case "":
	case "0", "1":
		if got != (want == "1") {
			t.Errorf("Detect() = %v (%s), but IMGP2P_EXPECT_EMULATED=%s", got, why, want)
		}
	default:
		t.Fatalf("IMGP2P_EXPECT_EMULATED=%q, want 0 or 1", want)
	}
}
