package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// crictlVersion is the cri-tools .ci/run installs; keep them equal.
const crictlVersion = "v1.37.0"

// TestGatewayKubernetesCRI: kubelet pulls through containerd's CRI image
// service, not ctr. A pod's `image: 127.0.0.1:5050/ipfs/CID` must pull
// with no registry config at all (CRI speaks plain HTTP to a loopback
// registry), by tag and by digest, and CRI must record the image under
// the manifest digest and config digest the layout has, which is what
// kubelet compares.
func TestGatewayKubernetesCRI(t *testing.T) {
	crictl, err := lookTool("crictl")
	need(t, "crictl (go install sigs.k8s.io/cri-tools/cmd/crictl@"+crictlVersion+")", err)
	hello := helloLayout(t)
	d := digests(t, hello)
	gw, cid := peerServed(t, hello)
	c := startCRI(t, gw.ns)
	config := filepath.Join(t.TempDir(), "crictl.yaml")
	endpoint := "unix://" + c.sock
	if err := os.WriteFile(config, []byte("runtime-endpoint: "+endpoint+"\nimage-endpoint: "+endpoint+"\ntimeout: 60\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cri := func(args ...string) result {
		t.Helper()
		return runIn(t, gw.ns, append([]string{crictl, "--config", config}, args...)...)
	}

	ref, byDigest := gw.Ref(cid), gw.Ref(cid)+"@"+d.Manifest.String()
	cri("pull", ref)
	cri("pull", byDigest)
	var inspected struct {
		Status struct {
			ID          string   `json:"id"`
			RepoTags    []string `json:"repoTags"`
			RepoDigests []string `json:"repoDigests"`
		} `json:"status"`
	}
	out := cri("inspecti", "-o", "json", ref).stdout
	if err := json.Unmarshal(out, &inspected); err != nil {
		t.Fatalf("crictl inspecti: %v\n%s", err, out)
	}
	st := inspected.Status
	t.Logf("CRI image %s, tags %v, digests %v", st.ID, st.RepoTags, st.RepoDigests)
	if st.ID != d.Config.String() {
		t.Errorf("CRI image ID %s, want the config digest %s", st.ID, d.Config)
	}
	if !slices.Contains(st.RepoTags, ref+":latest") {
		t.Errorf("CRI tags %v, want %s:latest", st.RepoTags, ref)
	}
	if !slices.Contains(st.RepoDigests, byDigest) {
		t.Errorf("CRI digests %v, want %s", st.RepoDigests, byDigest)
	}
}
