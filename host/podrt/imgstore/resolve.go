package imgstore

import (
	"fmt"
	"strings"

	"github.com/orrery/orrery/node/pod"
)

// Resolve finds one image by full or abbreviated ID ("sha512-0123456789ab"), by name, or by
// "name:version". Of several images with the same name, the most recently imported wins.
func (s *Store) Resolve(ref string) (Image, error) {
	imgs, err := s.List()
	if err != nil {
		return Image{}, err
	}
	if strings.HasPrefix(ref, "sha512-") {
		if _, err := pod.ParseImageID(ref, true); err != nil {
			return Image{}, err
		}
		return byPrefix(imgs, ref)
	}
	name, version, hasVersion := strings.Cut(ref, ":")
	var best *Image
	for i, img := range imgs {
		if img.Name != name || hasVersion && img.Labels["version"] != version {
			continue
		}
		if best == nil || img.Imported.After(best.Imported) {
			best = &imgs[i]
		}
	}
	if best == nil {
		return Image{}, fmt.Errorf("%w: %s", ErrNotFound, ref)
	}
	return *best, nil
}

func byPrefix(imgs []Image, prefix string) (Image, error) {
	var found []Image
	for _, img := range imgs {
		if strings.HasPrefix(string(img.ID), prefix) {
			found = append(found, img)
		}
	}
	switch len(found) {
	case 0:
		return Image{}, fmt.Errorf("%w: %s", ErrNotFound, prefix)
	case 1:
		return found[0], nil
	}
	return Image{}, fmt.Errorf("%w: %s matches %d images", ErrAmbiguous, prefix, len(found))
}
