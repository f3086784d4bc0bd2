package registry

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgp2p/imgp2p/image"
)

// referrers lists the image manifests and indexes in the root whose
// subject is the given digest (OCI distribution 1.1), optionally filtered
// by artifactType. Every manifest in the root counts, not only those
// index.json lists: a referrer may sit inside an index, such as one a
// registry without the referrers API kept under the sha256-<hex> tag.
func (h *Handler) referrers(w http.ResponseWriter, r *http.Request, root *image.Root, ref string) *regError {
	subject, err := v1.NewHash(ref)
	if err != nil {
		return errorf(http.StatusBadRequest, codeDigestInvalid, ref+": "+err.Error())
	}
	filter := r.URL.Query().Get("artifactType")
	idx := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{}}
	err = root.EachManifest(r.Context(), func(d v1.Descriptor, raw []byte) {
		var m struct {
			ArtifactType string            `json:"artifactType"`
			Config       *v1.Descriptor    `json:"config"`
			Subject      *v1.Descriptor    `json:"subject"`
			Annotations  map[string]string `json:"annotations"`
		}
		if json.Unmarshal(raw, &m) != nil || m.Subject == nil || m.Subject.Digest != subject {
			return
		}
		// The spec: a manifest without artifactType is typed by its
		// config; an index without one has none.
		artifactType := m.ArtifactType
		if artifactType == "" && m.Config != nil && !d.MediaType.IsIndex() {
			artifactType = string(m.Config.MediaType)
		}
		if filter != "" && artifactType != filter {
			return
		}
		idx.Manifests = append(idx.Manifests, v1.Descriptor{
			MediaType: d.MediaType, Digest: d.Digest, Size: int64(len(raw)),
			ArtifactType: artifactType, Annotations: m.Annotations,
		})
	})
	if err != nil {
		// A partial list would look complete.
		return h.fetchError(r.Context(), err, codeManifestUnknown, "referrers of "+subject.String())
	}
	if filter != "" {
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	var buf bytes.Buffer
	json.NewEncoder(&buf).Encode(idx)
	w.Header().Set("Content-Type", string(types.OCIImageIndex))
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	if r.Method == http.MethodGet {
		w.Write(buf.Bytes())
	}
	return nil
}
