package e2e

import (
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"
)

// Against distribution with TLS from a private CA and basic auth: each
// failure says what to do and leaks no credential; with the CA trusted
// and docker login done, copy keeps digests and a push back gives the
// same root, as --insecure does without the CA.
func TestRegistryDistributionAuthAndTLS(t *testing.T) {
	reg := startDistribution(t)
	ref := reg.Host + "/team/app:v1"
	dir := multiLayout(t)
	top := nameLayout(t, dir, ref)
	r := newRepo(t)
	cid := r.push(dir)
	home := filepath.Dir(r.dir) // the HOME imgp2p runs with

	wantErr := func(what string, res result, wants ...string) {
		t.Helper()
		for _, w := range wants {
			if !strings.Contains(string(res.stderr), w) {
				t.Errorf("%s: want %q on stderr: %v", what, w, res)
			}
		}
	}
	res := r.fails("copy", cid, "docker://"+ref)
	wantErr("untrusted CA", res, "certificate does not verify", "SSL_CERT_FILE", "--insecure")

	t.Setenv("SSL_CERT_FILE", reg.CA)
	res = r.fails("copy", cid, "docker://"+ref)
	wantErr("no credentials", res, "access denied", "docker login "+reg.Host)

	const wrong = "wrong-pw-do-not-print"
	dockerLogin(t, home, reg.Host, regUser, wrong)
	res = r.fails("copy", cid, "docker://"+ref)
	wantErr("wrong password", res, "access denied")
	for _, secret := range []string{wrong, base64.StdEncoding.EncodeToString([]byte(regUser + ":" + wrong))} {
		if strings.Contains(string(res.stderr)+string(res.stdout), secret) {
			t.Errorf("the credential %q is in the output: %v", secret, res)
		}
	}

	dockerLogin(t, home, reg.Host, regUser, regPassword)
	res = r.ok("copy", cid, "docker://"+ref)
	if got, want := string(res.stdout), reg.Host+"/team/app@"+top.Digest.String()+"\n"; got != want {
		t.Errorf("copy printed %q, want %q", got, want)
	}
	back := newRepo(t)
	dockerLogin(t, filepath.Dir(back.dir), reg.Host, regUser, regPassword)
	if got := back.push("docker://" + ref); got != cid {
		t.Errorf("push docker://%s gave %s, want the root copied, %s", ref, got, cid)
	}

	t.Setenv("SSL_CERT_FILE", "")
	insecure := newRepo(t)
	dockerLogin(t, filepath.Dir(insecure.dir), reg.Host, regUser, regPassword)
	if got := insecure.push("--insecure", "docker://"+ref); got != cid {
		t.Errorf("push --insecure docker://%s gave %s, want %s", ref, got, cid)
	}
}
