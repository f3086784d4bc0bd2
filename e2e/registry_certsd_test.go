package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

// Against distribution with TLS from a private CA, and no SSL_CERT_FILE:
// the CA in the registry's certs.d directory, where podman and skopeo
// look for it, is enough for copy and push docker:// alike, as it is for
// skopeo; one in a directory named for the host without its port is not.
func TestRegistryDistributionCertsD(t *testing.T) {
	t.Setenv("SSL_CERT_FILE", "")
	t.Setenv("SSL_CERT_DIR", "")
	reg := startDistribution(t)
	ref := reg.Host + "/team/certsd:v1"
	dir := multiLayout(t)
	top := nameLayout(t, dir, ref)
	r := newRepo(t)
	cid := r.push(dir)
	home := filepath.Dir(r.dir) // the HOME imgp2p runs with
	dockerLogin(t, home, reg.Host, regUser, regPassword)

	res := r.fails("copy", cid, "docker://"+ref)
	if want := "/etc/docker/certs.d/" + reg.Host; !strings.Contains(string(res.stderr), want) {
		t.Errorf("copy with the CA nowhere: want %q on stderr, the directory to put it in: %v", want, res)
	}
	hostOnly, _, _ := strings.Cut(reg.Host, ":")
	trustIn(t, home, hostOnly, reg.CA)
	res = r.fails("copy", cid, "docker://"+ref)
	if want := "certificate does not verify"; !strings.Contains(string(res.stderr), want) {
		t.Errorf("copy with the CA in certs.d/%s, no port: want %q on stderr: %v", hostOnly, want, res)
	}

	trustIn(t, home, reg.Host, reg.CA)
	res = r.ok("copy", cid, "docker://"+ref)
	if got, want := string(res.stdout), reg.Host+"/team/certsd@"+top.Digest.String()+"\n"; got != want {
		t.Errorf("copy printed %q, want %q", got, want)
	}
	// skopeo, with that HOME and no flag, reads it through the same directory.
	need(t, "skopeo", skopeoReady())
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	argv := inNetns("skopeo", "inspect", "--raw", "docker://"+ref)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = childEnv(home)
	if res := execute(cmd, nil); res.code != 0 || digest.FromBytes(res.stdout).String() != top.Digest.String() {
		t.Errorf("skopeo through the same certs.d: want the manifest of digest %s: %v", top.Digest, res)
	}

	back := newRepo(t)
	dockerLogin(t, filepath.Dir(back.dir), reg.Host, regUser, regPassword)
	trustIn(t, filepath.Dir(back.dir), reg.Host, reg.CA)
	if got := back.push("docker://" + ref); got != cid {
		t.Errorf("push docker://%s gave %s, want the root copied, %s", ref, got, cid)
	}
}

// trustIn puts the CA file ca in home's certs.d directory for host, as
// ca.crt.
func trustIn(t *testing.T, home, host, ca string) {
	t.Helper()
	b, err := os.ReadFile(ca)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(home, ".config", "containers", "certs.d", host)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.crt"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}
