package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// The conformance front's roots: a layout of what was pushed to a
// repository, imported into the gateway's repo.

// rootOf returns the CID of a root holding all that was pushed to the
// repository, importing a new one if anything was pushed since the last.
func (f *conformanceFront) rootOf(ctx context.Context, name string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	pushed := f.record(name)
	if pushed.root != "" {
		return pushed.root, nil
	}
	dir, err := os.MkdirTemp(f.work, "layout")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	if err := f.writeLayout(ctx, dir, name, pushed); err != nil {
		return "", fmt.Errorf("layout of %s: %w", name, err)
	}
	if pushed.root, err = f.importLayout(dir); err != nil {
		return "", fmt.Errorf("importing %s: %w", name, err)
	}
	return pushed.root, nil
}

// writeLayout writes an OCI layout of the repository: index.json lists
// every manifest pushed, each tag as a ref name, and the blobs no manifest
// names (the suite pushes blobs alone and pulls them back) as the layers
// of one more manifest, since a root holds only what its manifests name.
func (f *conformanceFront) writeLayout(ctx context.Context, dir, name string, pushed *pushedRepo) error {
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return err
	}
	write := func(d string, b []byte) error {
		return os.WriteFile(filepath.Join(blobs, strings.TrimPrefix(d, "sha256:")), b, 0o644)
	}
	if err := write(emptyJSONDigest, []byte("{}")); err != nil {
		return err
	}
	named := map[string]bool{emptyJSONDigest: true}
	for d, m := range pushed.manifests {
		if err := write(d, m.body); err != nil {
			return err
		}
		var refs struct {
			Config    *struct{ Digest string }  `json:"config"`
			Layers    []struct{ Digest string } `json:"layers"`
			Manifests []struct{ Digest string } `json:"manifests"`
		}
		json.Unmarshal(m.body, &refs)
		if refs.Config != nil {
			named[refs.Config.Digest] = true
		}
		for _, l := range append(refs.Layers, refs.Manifests...) {
			named[l.Digest] = true
		}
	}
	type descriptor struct {
		MediaType   string            `json:"mediaType"`
		Digest      string            `json:"digest"`
		Size        int               `json:"size"`
		Annotations map[string]string `json:"annotations,omitempty"`
	}
	var loose []descriptor
	for _, d := range pushed.blobs {
		b, err := f.scratchBlob(ctx, name, d)
		if err != nil {
			return err
		}
		if err := write(d, b); err != nil {
			return err
		}
		if _, isManifest := pushed.manifests[d]; !named[d] && !isManifest {
			loose = append(loose, descriptor{"application/octet-stream", d, len(b), nil})
		}
	}
	var entries []descriptor
	tagged := map[string]bool{}
	var tags []string
	for t := range pushed.tags {
		tags = append(tags, t)
	}
	sort.Strings(tags)
	for _, t := range tags {
		d := pushed.tags[t]
		tagged[d] = true
		m := pushed.manifests[d]
		entries = append(entries, descriptor{m.mediaType, d, len(m.body), map[string]string{"org.opencontainers.image.ref.name": t}})
	}
	for _, d := range pushed.order {
		if m := pushed.manifests[d]; !tagged[d] {
			entries = append(entries, descriptor{m.mediaType, d, len(m.body), nil})
		}
	}
	if len(loose) > 0 {
		holder, _ := json.Marshal(map[string]any{
			"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
			"artifactType": "application/vnd.imgp2p.loose-blobs",
			"config":       descriptor{"application/vnd.oci.empty.v1+json", emptyJSONDigest, 2, nil},
			"layers":       loose,
		})
		d := fmt.Sprintf("sha256:%x", sha256.Sum256(holder))
		if err := write(d, holder); err != nil {
			return err
		}
		entries = append(entries, descriptor{"application/vnd.oci.image.manifest.v1+json", d, len(holder), nil})
	}
	index, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries})
	if err := os.WriteFile(filepath.Join(dir, "index.json"), index, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
}

func (f *conformanceFront) scratchBlob(ctx context.Context, name, d string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.scratch+"/v2/"+name+"/blobs/"+d, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scratch registry: blob %s of %s: %s", d, name, resp.Status)
	}
	return io.ReadAll(resp.Body)
}
