package pack

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/agentd/agentd/internal/config"
)

// ManifestName is the name of a pack's manifest, at the top of its folder.
const ManifestName = "pack.toml"

// Limits on manifest values.
const (
	maxNameLen         = 64
	defaultTestTimeout = 10 * time.Second
	maxTestTimeout     = 10 * time.Minute
)

// A Manifest is a decoded and validated pack.toml.
type Manifest struct {
	Name        string
	Version     *semver.Version
	Description string
	License     string
	Authors     []string
	Homepage    string
	Agentd      Range            // the agentd versions the pack works with; the zero Range allows any
	Scripts     []string         // the agents to start: slash-separated paths inside the pack, in order
	Requires    map[string]Range // other packs it needs, by name
	Config      map[string]any   // defaults of agentd.config; never nil
	Test        TestSettings
}

// TestSettings is the [test] table: how `agentd pack test` runs the pack.
type TestSettings struct {
	Timeout time.Duration  // for each test file; default 10s
	Config  map[string]any // merged over Config while tests run; never nil
}

// A Range is a semantic version range such as ">=0.1.0, <0.3.0" or "^1.2".
// The zero Range allows every version.
type Range struct {
	Text string
	c    *semver.Constraints
}

// ParseRange parses a version range in the syntax of
// github.com/Masterminds/semver (comparisons joined by commas for "and",
// "||" for "or", and the shorthands ~, ^, x and hyphen ranges).
func ParseRange(s string) (Range, error) {
	if strings.TrimSpace(s) == "" {
		return Range{}, errors.New("empty version range")
	}
	c, err := semver.NewConstraint(s)
	if err != nil {
		return Range{}, err
	}
	return Range{Text: s, c: c}, nil
}

// Allows reports whether v is in the range.
func (r Range) Allows(v *semver.Version) bool { return r.c == nil || r.c.Check(v) }

// String returns the range as written, or "*" for the zero Range.
func (r Range) String() string {
	if r.c == nil {
		return "*"
	}
	return r.Text
}

// ParseVersion parses a semantic version strictly: MAJOR.MINOR.PATCH with
// an optional -prerelease and +build, no "v" prefix and no missing part.
func ParseVersion(s string) (*semver.Version, error) {
	v, err := semver.StrictNewVersion(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a semantic version MAJOR.MINOR.PATCH such as \"1.2.0\" (%v)", s, err)
	}
	return v, nil
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// ValidName reports whether s can name a pack: a lower-case letter, then
// lower-case letters, digits and '-', at most 64 characters.
func ValidName(s string) bool { return len(s) <= maxNameLen && nameRE.MatchString(s) }

func nameProblem(s string) string {
	if len(s) > maxNameLen {
		return fmt.Sprintf("a pack name has at most %d characters", maxNameLen)
	}
	return fmt.Sprintf("%q is not a pack name: a lower-case letter, then lower-case letters, digits or '-'", s)
}

// LoadManifest reads the pack.toml of the pack folder dir and checks it
// against the folder: every script must be a regular .lua file inside it.
// Problems are returned together as config.Errors, each naming pack.toml's
// path, the line and the key.
func LoadManifest(dir string) (*Manifest, error) {
	file := filepath.Join(dir, ManifestName)
	data, err := readRegular(file, maxManifestSize)
	if err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	return decodeManifest(file, data, dir)
}

// DecodeManifest decodes and validates the content of a pack.toml; file
// names it in messages. Script files are not looked for.
func DecodeManifest(file string, data []byte) (*Manifest, error) {
	return decodeManifest(file, data, "")
}

func decodeManifest(file string, data []byte, dir string) (*Manifest, error) {
	doc, err := config.ParseDocument(file, data)
	if err != nil {
		return nil, err
	}
	m := &Manifest{Config: map[string]any{}, Requires: map[string]Range{}, Test: TestSettings{Timeout: defaultTestTimeout, Config: map[string]any{}}}
	var top config.Key
	str := func(dst *string) func(config.Key, any) {
		return func(k config.Key, v any) {
			if s, ok := doc.String(k, v); ok {
				*dst = s
			}
		}
	}
	doc.Table(top, doc.Root,
		config.Field{Name: "name", Read: func(k config.Key, v any) {
			if s, ok := doc.String(k, v); ok {
				if !ValidName(s) {
					doc.Errorf(k, "%s", nameProblem(s))
					return
				}
				m.Name = s
			}
		}},
		config.Field{Name: "version", Read: func(k config.Key, v any) {
			if s, ok := doc.String(k, v); ok {
				ver, err := ParseVersion(s)
				if err != nil {
					doc.Errorf(k, "%v", err)
					return
				}
				m.Version = ver
			}
		}},
		config.Field{Name: "description", Read: str(&m.Description)},
		config.Field{Name: "license", Read: str(&m.License)},
		config.Field{Name: "homepage", Read: func(k config.Key, v any) {
			if s, ok := doc.String(k, v); ok {
				if u, err := url.Parse(s); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
					doc.Errorf(k, "%q is not an http or https URL", s)
					return
				}
				m.Homepage = s
			}
		}},
		config.Field{Name: "authors", Read: func(k config.Key, v any) {
			list, _ := doc.Strings(k, v, `an array of strings such as ["Ada <ada@example.org>"]`)
			for i, s := range list {
				if strings.TrimSpace(s) == "" {
					doc.Errorf(k.Index(i), "empty author")
				}
			}
			m.Authors = list
		}},
		config.Field{Name: "agentd", Read: func(k config.Key, v any) {
			if s, ok := doc.String(k, v); ok {
				r, err := ParseRange(s)
				if err != nil {
					doc.Errorf(k, "invalid version range %q: %v", s, err)
					return
				}
				m.Agentd = r
			}
		}},
		config.Field{Name: "scripts", Read: func(k config.Key, v any) { m.Scripts = scripts(doc, k, v, dir) }},
		config.Field{Name: "requires", Read: func(k config.Key, v any) {
			t, ok := doc.TableValue(k, v)
			if !ok {
				return
			}
			for _, name := range config.SortedKeys(t) {
				q := k.Child(name)
				s, ok := doc.String(q, t[name])
				if !ok {
					continue
				}
				if !ValidName(name) {
					doc.Errorf(q, "%s", nameProblem(name))
					continue
				}
				r, err := ParseRange(s)
				if err != nil {
					doc.Errorf(q, "invalid version range %q: %v", s, err)
					continue
				}
				m.Requires[name] = r
			}
		}},
		config.Field{Name: "config", Read: func(k config.Key, v any) {
			if t, ok := doc.TableValue(k, v); ok {
				m.Config = config.Plain(t)
			}
		}},
		config.Field{Name: "test", Read: func(k config.Key, v any) {
			t, ok := doc.TableValue(k, v)
			if !ok {
				return
			}
			doc.Table(k, t,
				config.Field{Name: "timeout", Read: func(k config.Key, v any) {
					d, ok := doc.Duration(k, v)
					switch {
					case !ok:
					case d <= 0:
						doc.Errorf(k, "must be more than 0, got %q", v)
					case d > maxTestTimeout:
						doc.Errorf(k, "must be at most %v, got %q", maxTestTimeout, v)
					default:
						m.Test.Timeout = d
					}
				}},
				config.Field{Name: "config", Read: func(k config.Key, v any) {
					if t, ok := doc.TableValue(k, v); ok {
						m.Test.Config = config.Plain(t)
					}
				}},
			)
		}},
	)
	for _, req := range []struct {
		key     string
		missing bool
		example string
	}{
		{"name", m.Name == "" && doc.Root["name"] == nil, `name = "heartbeat"`},
		{"version", m.Version == nil && doc.Root["version"] == nil, `version = "1.0.0"`},
		{"scripts", doc.Root["scripts"] == nil, `scripts = ["heartbeat.lua"]`},
	} {
		if req.missing {
			doc.Errorf(top.Child(req.key), "required key is missing (e.g. %s)", req.example)
		}
	}
	if _, ok := m.Requires[m.Name]; ok && m.Name != "" {
		doc.Errorf(top.Child("requires").Child(m.Name), "a pack cannot require itself")
	}
	if err := doc.Err(); err != nil {
		return nil, err
	}
	return m, nil
}

// scripts reads the scripts array: relative .lua paths inside the pack,
// each once, not under lib/ (modules) or test/ (tests). With dir set,
// each must be a regular file there.
func scripts(doc *config.Document, k config.Key, v any, dir string) []string {
	list, ok := doc.Strings(k, v, `an array of .lua files such as ["heartbeat.lua"]`)
	if !ok && list == nil {
		return nil
	}
	if len(list) == 0 {
		doc.Errorf(k, "a pack runs at least one script")
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for i, s := range list {
		q := k.Index(i)
		p, problem := cleanRel(s)
		switch {
		case problem != "":
			doc.Errorf(q, "%q: %s", s, problem)
			continue
		case !strings.HasSuffix(p, ".lua"):
			doc.Errorf(q, "%q: a script is a .lua file", s)
			continue
		case p == "lib" || strings.HasPrefix(p, "lib/") || strings.HasPrefix(p, "test/"):
			doc.Errorf(q, "%q: lib/ holds modules and test/ holds tests; an agent lives elsewhere in the pack", s)
			continue
		case seen[p]:
			doc.Errorf(q, "%q is listed twice", s)
			continue
		}
		seen[p] = true
		if dir != "" {
			fi, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(p)))
			switch {
			case errors.Is(err, fs.ErrNotExist):
				doc.Errorf(q, "%q: no such file in the pack", s)
				continue
			case err != nil:
				doc.Errorf(q, "%q: %v", s, err)
				continue
			case !fi.Mode().IsRegular():
				doc.Errorf(q, "%q is not a regular file", s)
				continue
			}
		}
		out = append(out, p)
	}
	return out
}

// cleanRel checks a slash-separated path inside a pack and returns it
// cleaned, or what is wrong with it.
func cleanRel(s string) (string, string) {
	switch {
	case s == "":
		return "", "empty path"
	case strings.Contains(s, "\\"):
		return "", `use '/' to separate folders`
	case path.IsAbs(s) || filepath.IsAbs(s) || filepath.VolumeName(s) != "":
		return "", "an absolute path; paths in a pack are relative to its folder"
	}
	p := path.Clean(s)
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", "leads out of the pack"
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return "", "leads out of the pack"
		}
		if strings.HasPrefix(part, ".") {
			return "", "hidden files and folders are not part of a pack"
		}
	}
	return p, ""
}
