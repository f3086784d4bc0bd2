package e2e

import (
	"os"
	"testing"
)

// inCI reports whether CI=true-ish is set. CI must never pass by skipping,
// so there a missing tool is a failure; on a developer machine it is a skip.
func inCI() bool {
	v := os.Getenv("CI")
	return v != "" && v != "0" && v != "false"
}

// need skips (outside CI) or fails (in CI) the test when err says a
// prerequisite is missing.
func need(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if inCI() {
		t.Fatalf("%s unavailable under CI: %v", what, err)
	}
	t.Skipf("%s unavailable (CI unset, so skipping): %v", what, err)
}
