package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestPullRefusesOutputsItMustNotReplace: a pull's rename replaces what
// has the output's name, so -o must refuse a device, a symlink, a
// directory (for a tar), a file (for a layout) and the repo's own files,
// naming the path, before doing any work, and leave each untouched.
func TestPullRefusesOutputsItMustNotReplace(t *testing.T) {
	r := newRepo(t)
	cid := r.push(helloLayout(t))
	dir := t.TempDir()
	device := filepath.Join(dir, "null")
	if err := syscall.Mknod(device, syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink("/proc/self/fd/1", link); err != nil {
		t.Fatal(err)
	}
	subdir := filepath.Join(dir, "adir")
	if err := os.Mkdir(subdir, 0o755); err != nil {
		t.Fatal(err)
	}
	precious := filepath.Join(dir, "precious")
	if err := os.WriteFile(precious, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	repoFile := filepath.Join(r.dir, "config.json")
	repoLink := filepath.Join(t.TempDir(), "repo-link")
	if err := os.Symlink(r.dir, repoLink); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(repoFile)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		says string
	}{
		{[]string{"-o", device}, "is a device"},
		{[]string{"-o", link}, "is a symlink"},
		{[]string{"-o", subdir}, "is a directory"},
		{[]string{"-o", subdir + "/"}, "is a directory"},
		{[]string{"--format", "oci", "-o", precious}, "is not a directory"},
		{[]string{"-o", repoFile}, "inside the repo"},
		{[]string{"-o", filepath.Join(repoLink, "config.json")}, "inside the repo"},
	}
	for _, c := range cases {
		res := r.fails(append(append([]string{"pull"}, c.args...), cid)...)
		out := c.args[len(c.args)-1]
		if !bytes.Contains(res.stderr, []byte(c.says)) || !bytes.Contains(res.stderr, []byte(out)) {
			t.Errorf("pull %v: stderr %q, want it to name %s and say %q", c.args, res.stderr, out, c.says)
		}
	}
	if fi, err := os.Lstat(device); err != nil || fi.Mode()&os.ModeDevice == 0 {
		t.Errorf("%s is no longer a device: %v %v", device, fi.Mode(), err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("%s is no longer a symlink: %v", link, err)
	}
	if got, _ := os.ReadFile(precious); string(got) != "keep me" {
		t.Errorf("%s now holds %q", precious, got)
	}
	if after, _ := os.ReadFile(repoFile); !bytes.Equal(after, before) {
		t.Errorf("the repo's %s changed", repoFile)
	}
	if entries, _ := os.ReadDir(subdir); len(entries) != 0 {
		t.Errorf("%s gained %d entries", subdir, len(entries))
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 4 {
		t.Errorf("%s holds %d entries, want the 4 made here (a partial file left?)", dir, len(entries))
	}
	// A regular file is replaced, as docker save -o does.
	r.ok("pull", "-o", precious, cid)
	if got, _ := os.ReadFile(precious); string(got) == "keep me" {
		t.Errorf("pull -o onto a regular file left it as it was")
	}
}
