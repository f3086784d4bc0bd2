package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgp2p/imgp2p/image"
)

// Tags: what each tag of a root names, and the tags/list endpoint.

// entriesTagged returns what a tag names: its index.json entries, less
// the artifacts beside an image among them (see withoutArtifacts).
func entriesTagged(ctx context.Context, root *image.Root, tag string) ([]v1.Descriptor, error) {
	return withoutArtifacts(ctx, root, taggedDescriptors(root, tag))
}

// taggedDescriptors returns the index.json entries a tag names: "latest"
// names every entry unless an entry carries that tag itself; any other tag
// names the entries whose ref name ends in it.
func taggedDescriptors(root *image.Root, tag string) []v1.Descriptor {
	var named []v1.Descriptor
	for _, d := range root.Index().Manifests {
		if refTag(d) == tag {
			named = append(named, d)
		}
	}
	if len(named) == 0 && tag == "latest" {
		return root.Index().Manifests
	}
	return named
}

// validTag is the distribution spec's tag grammar.
var validTag = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)

// ambiguous says whether several distinct entries cannot be served as
// one index: an index of indexes is valid OCI, but docker finds no
// platform in one, and flattening them would mix images.
func ambiguous(distinct []v1.Descriptor) bool {
	return len(distinct) > 1 && slices.ContainsFunc(distinct, func(d v1.Descriptor) bool { return d.MediaType.IsIndex() })
}

func latestIsAmbiguous(ctx context.Context, root *image.Root) (bool, error) {
	descs, err := entriesTagged(ctx, root, "latest")
	return ambiguous(distinctDigests(descs)), err
}

// distinctDigests drops entries repeating an earlier entry's digest: the
// same image listed under two tags is still one image.
func distinctDigests(descs []v1.Descriptor) []v1.Descriptor {
	var out []v1.Descriptor
	seen := map[v1.Hash]bool{}
	for _, d := range descs {
		if !seen[d.Digest] {
			seen[d.Digest] = true
			out = append(out, d)
		}
	}
	return out
}

func digestsOf(descs []v1.Descriptor) []string {
	out := make([]string, len(descs))
	for i, d := range descs {
		out[i] = d.Digest.String()
	}
	return out
}

// refTag is the tag a descriptor's ref name gives it, or "" for none: "v1"
// for "v1", "app:v1" and "example.com/app:v1"; "latest" for a repository
// named without a tag ("example.com/app", as `push docker://…` records
// it); none for a digest reference or anything a client could not ask for.
func refTag(d v1.Descriptor) string {
	ref := d.Annotations[image.AnnotationRefName]
	tag := ref
	switch {
	case strings.ContainsAny(ref, "/@"):
		tag = ""
		if r, err := name.ParseReference(ref); err == nil {
			if t, ok := r.(name.Tag); ok {
				tag = t.TagStr()
			}
		}
	case strings.Contains(ref, ":"):
		tag = ref[strings.LastIndex(ref, ":")+1:]
	}
	if !validTag.MatchString(tag) {
		return ""
	}
	return tag
}

func tagsOf(ctx context.Context, root *image.Root) ([]string, error) {
	// "latest" always resolves, except to several images some of which
	// are multi-platform (see resolveManifest): listed, it would be a tag
	// no client can pull.
	latestAmbiguous, err := latestIsAmbiguous(ctx, root)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{"latest": !latestAmbiguous}
	for _, d := range root.Index().Manifests {
		if t := refTag(d); t != "" {
			set[t] = true
		}
	}
	var tags []string
	for t, listed := range set {
		if listed {
			tags = append(tags, t)
		}
	}
	sort.Strings(tags)
	return tags, nil
}

// synthesizedIndex joins several entries that share a tag into one index.
// Its bytes depend only on the entries, so its digest is stable.
func synthesizedIndex(descs []v1.Descriptor) []byte {
	raw, _ := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: descs})
	return raw
}

// tags lists tags with the spec's n/last pagination.
func (h *Handler) tags(w http.ResponseWriter, r *http.Request, root *image.Root) *regError {
	tags, err := tagsOf(r.Context(), root)
	if err != nil {
		return h.fetchError(r.Context(), err, codeNameUnknown, "tags of ipfs/"+root.CID.String())
	}
	q := r.URL.Query()
	if last := q.Get("last"); last != "" {
		i := sort.SearchStrings(tags, last)
		if i < len(tags) && tags[i] == last {
			i++
		}
		tags = tags[i:]
	}
	if ns := q.Get("n"); ns != "" {
		n, err := strconv.Atoi(ns)
		if err != nil || n < 0 {
			return errorf(http.StatusBadRequest, codeUnsupported, fmt.Sprintf("tags/list?n=%s: n must be a non-negative integer", ns))
		}
		if n < len(tags) {
			tags = tags[:n]
			if n > 0 {
				w.Header().Set("Link", fmt.Sprintf(`</v2/ipfs/%s/tags/list?n=%d&last=%s>; rel="next"`, root.CID, n, tags[n-1]))
			}
		}
	}
	var buf bytes.Buffer
	json.NewEncoder(&buf).Encode(struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}{"ipfs/" + root.CID.String(), append([]string{}, tags...)})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	if r.Method == http.MethodGet {
		w.Write(buf.Bytes())
	}
	return nil
}
