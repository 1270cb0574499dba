package podrt

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/orrery/orrery/node/pod"
)

// ErrExists reports a pod name already taken.
var ErrExists = errors.New("podrt: pod exists")

// Prepare creates a pod from an image and leaves it prepared: embryo (directory and
// record), preparing (overlay directories, app resolved), prepared.
func (rt *Runtime) Prepare(o Options) (*Pod, error) {
	st, err := rt.store()
	if err != nil {
		return nil, err
	}
	defer st.Close()
	img, err := st.Resolve(o.Image)
	if err != nil {
		return nil, err
	}
	tree, m, err := st.Tree(img.ID)
	if err != nil {
		return nil, err
	}
	p, err := rt.embryo(o, img.ID, img.Name)
	if err != nil {
		return nil, err
	}
	p.Tree = tree
	if err := p.apply(pod.EvPrepare); err != nil {
		return nil, err
	}
	if err := rt.prepare(p, m.App, o); err != nil {
		p.Status = &pod.ExitStatus{Code: -1, Reason: err.Error()}
		p.Ended = time.Now().UTC()
		_ = p.apply(pod.EvPrepareFail)
		return nil, err
	}
	return p, p.apply(pod.EvPrepared)
}

func (rt *Runtime) embryo(o Options, id pod.ImageID, imageName string) (*Pod, error) {
	name := o.Name
	if name == "" {
		base := imageName[strings.LastIndex(imageName, "/")+1:]
		name = sanitize(base) + "-" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	}
	if !podName.MatchString(name) {
		return nil, fmt.Errorf("podrt: pod name %q: want lowercase letters, digits and -, at most 63", name)
	}
	net := o.Net
	if net == "" {
		net = pod.NetDefault
	}
	dir := rt.podDir(name)
	if err := os.Mkdir(dir, 0o700); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("%w: %s", ErrExists, name)
		}
		return nil, fmt.Errorf("podrt: %w", err)
	}
	p := &Pod{Name: name, State: pod.Embryo, Image: id, ImageName: imageName, Net: net, Created: time.Now().UTC(), dir: dir}
	return p, p.save()
}

func sanitize(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		} else {
			b.WriteByte('-')
		}
	}
	out := strings.Trim(b.String(), "-")
	if len(out) > 40 {
		out = out[:40]
	}
	if out == "" {
		out = "pod"
	}
	return out
}

// prepare resolves the app and its limits and makes the overlay directories.
func (rt *Runtime) prepare(p *Pod, app *pod.App, o Options) error {
	a := *app
	if len(o.Args) > 0 {
		a.Exec = append([]string{a.Exec[0]}, o.Args...)
	}
	limits, err := pod.LimitsOf("app.isolators", a.Isolators)
	if err != nil {
		return err
	}
	p.App, p.Limits = a, limits.Override(o.Limits)
	for _, d := range []string{"upper", "work", "rootfs"} {
		if err := os.Mkdir(filepath.Join(p.dir, d), 0o755); err != nil {
			return fmt.Errorf("podrt: %w", err)
		}
	}
	if _, _, err := resolveIDs(filepath.Join(p.Tree, "rootfs"), a.User, a.Group); err != nil {
		return err
	}
	return nil
}

// resolveIDs turns the app's user and group into numbers: numbers as they are, names
// through the image's /etc/passwd and /etc/group (never through a symlink, which could
// point at the host's files).
func resolveIDs(rootfs, user, group string) (int, int, error) {
	uid, err := lookupID(rootfs, "etc/passwd", user)
	if err != nil {
		return 0, 0, fmt.Errorf("podrt: app.user: %w", err)
	}
	gid, err := lookupID(rootfs, "etc/group", group)
	if err != nil {
		return 0, 0, fmt.Errorf("podrt: app.group: %w", err)
	}
	return uid, gid, nil
}

func lookupID(rootfs, file, name string) (int, error) {
	if n, err := strconv.Atoi(name); err == nil && n >= 0 {
		return n, nil
	}
	path := filepath.Join(rootfs, file)
	if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("%q is not a number and the image has no regular /%s", name, file)
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) >= 3 && fields[0] == name {
			return strconv.Atoi(fields[2])
		}
	}
	return 0, fmt.Errorf("%q not found in the image's /%s", name, file)
}
