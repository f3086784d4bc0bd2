package image

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// WriteDockerArchive writes the export as a docker-archive (the format of
// `docker save`, which `docker load` and `podman load` read). Each image is
// tagged with tags when given, else with the names it carries, else with
// DefaultName(root):latest.
func (e *Export) WriteDockerArchive(ctx context.Context, w io.Writer, tags []string) error {
	images, err := e.dockerImages(ctx, tags)
	if err != nil {
		return err
	}
	return tarball.MultiRefWrite(images, w)
}

func (e *Export) dockerImages(ctx context.Context, tags []string) (map[name.Reference]v1.Image, error) {
	byDigest := map[v1.Hash]v1.Image{}
	var order []v1.Descriptor
	names := map[v1.Hash][]string{}
	for _, d := range e.manifests {
		if _, ok := byDigest[d.Digest]; !ok {
			img, err := e.root.v1Image(ctx, d)
			if err != nil {
				return nil, err
			}
			byDigest[d.Digest] = img
			order = append(order, d)
		}
		names[d.Digest] = append(names[d.Digest], descriptorNames(d)...)
	}
	if len(tags) > 0 {
		if len(order) > 1 {
			return nil, fmt.Errorf("--tag names one image, but %s holds %d for this platform (%v); choose one with --platform", e.root.CID, len(order), platformList(order))
		}
		names[order[0].Digest] = tags
	}
	out := map[name.Reference]v1.Image{}
	for _, d := range order {
		refs := e.repoTags(names[d.Digest])
		if len(refs) == 0 {
			// Two unnamed images cannot share the default name.
			def := DefaultName(e.root.CID) + ":latest"
			if len(order) > 1 {
				def = fmt.Sprintf("%s:%s", DefaultName(e.root.CID), d.Digest.Hex[:12])
			}
			refs = []name.Reference{mustTag(def)}
		}
		for _, ref := range refs {
			out[ref] = byDigest[d.Digest]
		}
	}
	return out, nil
}

// repoTags turns image names into docker tags. A bare tag such as "v1"
// (what skopeo writes as a ref name) is placed under DefaultName; names
// that are not valid docker tags are skipped.
func (e *Export) repoTags(names []string) []name.Reference {
	var refs []name.Reference
	for _, n := range names {
		if !strings.ContainsAny(n, ":/") {
			n = DefaultName(e.root.CID) + ":" + n
		}
		if tag, err := dockerTag(n); err == nil {
			refs = append(refs, tag)
		}
	}
	return refs
}

// CheckTag validates a docker tag given by the user.
func CheckTag(s string) error {
	if _, err := dockerTag(s); err != nil {
		return fmt.Errorf("invalid tag %q: %v (want NAME:TAG)", s, err)
	}
	return nil
}

// pathComponent is one /-separated part of a repository path in docker's
// reference grammar (distribution/reference).
var pathComponent = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)

// dockerTag parses s as a tag docker load and podman load accept.
// go-containerregistry checks a repository's characters only, so it takes
// "../../etc/x:v1" and "/x:v1", for which docker load refuses the whole
// archive ("invalid reference format").
func dockerTag(s string) (name.Tag, error) {
	tag, err := name.NewTag(s)
	if err != nil {
		return name.Tag{}, err
	}
	for _, c := range strings.Split(tag.RepositoryStr(), "/") {
		if !pathComponent.MatchString(c) {
			return name.Tag{}, fmt.Errorf("repository path component %q is not lowercase letters and digits joined by . _ __ or -", c)
		}
	}
	return tag, nil
}

func mustTag(s string) name.Tag {
	t, err := name.NewTag(s)
	if err != nil {
		panic(err)
	}
	return t
}
