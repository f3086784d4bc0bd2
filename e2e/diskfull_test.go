package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
)

// smallDisk mounts a tmpfs of the given size for the test: a place where a
// write fails half-way with ENOSPC, deterministically.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	msg, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput()
	if err != nil {
		err = fmt.Errorf("%v: %s", err, msg)
	}
	need(t, "tmpfs mount (needs root)", err)
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	return dir
}

// TestPullDiskFull: a pull that fails while writing (the disk fills up
// half-way through the image) leaves no partial file, directory or temp
// file behind, in every output format.
func TestPullDiskFull(t *testing.T) {
	r := newRepo(t)
	cid := r.push(helloLayout(t)) // ~640 KB: cannot fit in 256 KiB
	disk := smallDisk(t, "256k")
	for _, args := range [][]string{
		{"-o", filepath.Join(disk, "img.tar")},
		{"--format", "oci", "-o", filepath.Join(disk, "layout")},
		{"--format", "oci-archive", "-o", filepath.Join(disk, "oci.tar")},
	} {
		r.fails(append(append([]string{"pull", "--offline"}, args...), cid)...)
		emptyDir(t, disk)
	}
}
