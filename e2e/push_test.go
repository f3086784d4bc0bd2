package e2e

import (
	"io"
	"regexp"
)

// cidLine is push's whole stdout: one CIDv1 in base32 (dag-pb → "bafy").
var cidLine = regexp.MustCompile(`^(bafy[a-z2-7]{50,})\n$`)

// push runs `imgp2p push args...` and returns the CID it printed, failing
// the test unless stdout is exactly one CID line.
func (r *repo) push(args ...string) string {
	r.t.Helper()
	return r.pushFrom(nil, args...)
}

// pushFrom is push with stdin, for `push -`.
func (r *repo) pushFrom(stdin io.Reader, args ...string) string {
	r.t.Helper()
	res := r.run(stdin, append([]string{"push"}, args...)...)
	if res.code != 0 {
		r.t.Fatalf("push failed: %v", res)
	}
	m := cidLine.FindSubmatch(res.stdout)
	if m == nil {
		r.t.Fatalf("push stdout is not exactly one CID line: %v", res)
	}
	return string(m[1])
}
