package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgp2p/imgp2p/image"
)

// referrers lists the manifests in the root whose subject is the given
// digest (OCI distribution 1.1), optionally filtered by artifactType.
func (h *Handler) referrers(w http.ResponseWriter, r *http.Request, root *image.Root, ref string) *regError {
	subject, err := v1.NewHash(ref)
	if err != nil {
		return errorf(http.StatusBadRequest, codeDigestInvalid, fmt.Sprintf("%s: %v", ref, err))
	}
	filter := r.URL.Query().Get("artifactType")
	idx := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{}}
	for _, d := range root.Index().Manifests {
		if !isManifestType(d.MediaType) {
			continue
		}
		raw, err := root.ReadManifest(r.Context(), d.Digest)
		if errors.Is(err, image.ErrBlobNotInImage) {
			continue // listed in index.json, missing from blobs/: nothing to refer
		}
		if err != nil {
			// A partial list would look complete.
			return h.fetchError(r.Context(), err, codeManifestUnknown, "manifest "+d.Digest.String())
		}
		var m struct {
			ArtifactType string            `json:"artifactType"`
			Config       v1.Descriptor     `json:"config"`
			Subject      *v1.Descriptor    `json:"subject"`
			Annotations  map[string]string `json:"annotations"`
		}
		if json.Unmarshal(raw, &m) != nil || m.Subject == nil || m.Subject.Digest != subject {
			continue
		}
		artifactType := m.ArtifactType
		if artifactType == "" {
			artifactType = string(m.Config.MediaType)
		}
		if filter != "" && artifactType != filter {
			continue
		}
		idx.Manifests = append(idx.Manifests, v1.Descriptor{
			MediaType: d.MediaType, Digest: d.Digest, Size: d.Size,
			ArtifactType: artifactType, Annotations: m.Annotations,
		})
	}
	if filter != "" {
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	var buf bytes.Buffer
	json.NewEncoder(&buf).Encode(idx)
	w.Header().Set("Content-Type", string(types.OCIImageIndex))
	if r.Method == http.MethodGet {
		w.Write(buf.Bytes())
	}
	return nil
}

func isManifestType(mt types.MediaType) bool {
	return mt == types.OCIManifestSchema1 || mt == types.DockerManifestSchema2
}
