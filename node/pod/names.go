package pod

import (
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// ErrBadImageID reports a string that is not "sha512-" and 128 lowercase hex digits.
var ErrBadImageID = errors.New("pod: bad image id")

// FieldError names the manifest field that is wrong and why, by its JSON path.
type FieldError struct {
	Field   string // "app.exec", "labels[2].value"
	Problem string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// acIdentifier is appc's AC Identifier (image names, isolator names): lowercase words
// joined by one of - . _ ~ /.
var acIdentifier = regexp.MustCompile(`^[a-z0-9]+([-._~/][a-z0-9]+)*$`)

// acName is appc's AC Name (app names, label names, volume names): lowercase words joined by -.
var acName = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

func checkIdentifier(field, s string) error {
	if s == "" {
		return fieldErr(field, "required")
	}
	if !acIdentifier.MatchString(s) {
		return fieldErr(field, "%q is not an AC identifier (lowercase letters and digits, joined by - . _ ~ /)", s)
	}
	return nil
}

func checkName(field, s string) error {
	if s == "" {
		return fieldErr(field, "required")
	}
	if !acName.MatchString(s) {
		return fieldErr(field, "%q is not an AC name (lowercase letters and digits joined by -)", s)
	}
	return nil
}

// ImageID is the content address of an image: "sha512-" + hex SHA-512 of the uncompressed tar.
type ImageID string

const imageIDPrefix = "sha512-"

// ImageIDOf returns the ID of an image whose uncompressed tar has the given digest.
func ImageIDOf(sum [sha512.Size]byte) ImageID {
	return ImageID(imageIDPrefix + hex.EncodeToString(sum[:]))
}

// ParseImageID validates s. A prefix of at least 12 hex digits is accepted with
// allowShort, for commands that let the user abbreviate an ID; it is not a full ID.
func ParseImageID(s string, allowShort bool) (ImageID, error) {
	hexPart, ok := strings.CutPrefix(s, imageIDPrefix)
	switch {
	case !ok:
		return "", fmt.Errorf("%w: %q does not start with %q", ErrBadImageID, s, imageIDPrefix)
	case len(hexPart) > 2*sha512.Size, !allowShort && len(hexPart) != 2*sha512.Size:
		return "", fmt.Errorf("%w: %q needs %d hex digits", ErrBadImageID, s, 2*sha512.Size)
	case len(hexPart) < 12:
		return "", fmt.Errorf("%w: %q is too short to be unambiguous", ErrBadImageID, s)
	}
	for _, c := range hexPart {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return "", fmt.Errorf("%w: %q has a non-hex digit %q", ErrBadImageID, s, c)
		}
	}
	return ImageID(s), nil
}

// Full reports whether id is a complete ID (not an abbreviation).
func (id ImageID) Full() bool { return len(id) == len(imageIDPrefix)+2*sha512.Size }

// Short is the abbreviated form used in tables.
func (id ImageID) Short() string {
	if len(id) > len(imageIDPrefix)+12 {
		return string(id[:len(imageIDPrefix)+12])
	}
	return string(id)
}
