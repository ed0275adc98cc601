package config

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/BurntSushi/toml"
	"github.com/agentd/agentd/internal/regfile"
)

// Load reads and decodes the config file at path. Problems in the file are
// returned together as Errors; a file that cannot be read gives an error
// naming it. Only a regular file of at most regfile.MaxSize is read: a
// named pipe or a device is refused at once (see package regfile).
func Load(path string) (*Config, error) {
	data, err := regfile.Read(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Decode(path, data)
}

// Decode decodes and validates a config file's content. file names it in
// messages and sets File and Dir; with file "", relative paths resolve
// against the working directory. On failure the result is nil and the error
// is Errors, holding every problem found, sorted by line.
func Decode(file string, data []byte) (*Config, error) {
	cfg := Default()
	cfg.name = file
	if file != "" {
		abs, err := filepath.Abs(file)
		if err != nil {
			return nil, fmt.Errorf("config: %s: %w", file, err)
		}
		cfg.File, cfg.Dir = abs, filepath.Dir(abs)
	} else if wd, err := os.Getwd(); err == nil {
		cfg.Dir = wd
	} else {
		cfg.Dir = "."
	}

	lines, tooDeep := scanLines(string(data))
	if tooDeep > 0 {
		return nil, Errors{{File: file, Line: tooDeep, Msg: fmt.Sprintf("keys or values nested more than %d levels deep", maxKeyDepth)}}
	}
	doc, err := parseTOML(data)
	if err != nil {
		return nil, Errors{syntaxError(file, err)}
	}
	d := &decoder{name: file, lines: lines, cfg: cfg}
	d.document(doc)
	if err := d.errs.sorted(); err != nil {
		return nil, err
	}
	cfg.resolvePaths()
	return cfg, nil
}

// parseTOML decodes data into generic values. A panic inside the TOML
// library is turned into an error: a config file must never crash the daemon.
func parseTOML(data []byte) (doc map[string]any, err error) {
	defer func() {
		if r := recover(); r != nil {
			doc, err = nil, fmt.Errorf("TOML decoder failed: %v", r)
		}
	}()
	_, err = toml.Decode(string(data), &doc)
	return doc, err
}

func syntaxError(file string, err error) *Error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return &Error{File: file, Line: pe.Position.Line, Col: pe.Position.Col, Msg: pe.Message, err: err}
	}
	return &Error{File: file, Msg: err.Error(), err: err}
}

// decoder walks the generic TOML values, fills cfg and collects every problem.
type decoder struct {
	name  string // file name for messages
	lines lineTable
	cfg   *Config
	errs  Errors
}

func (d *decoder) errorf(p keyPath, format string, args ...any) {
	d.errs = append(d.errs, &Error{
		File: d.name,
		Line: d.lines.lookup(p),
		Key:  p.String(),
		Msg:  fmt.Sprintf(format, args...),
	})
}

// field is one known key of a table and how to read its value.
type field struct {
	name string
	read func(p keyPath, v any)
}

// table reads the keys of m with fields; any other key is an error.
func (d *decoder) table(p keyPath, m map[string]any, fields []field) {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	for _, k := range sortedKeys(m) {
		if i := slices.Index(names, k); i >= 0 {
			fields[i].read(p.child(k), m[k])
		} else {
			d.errorf(p.child(k), "unknown key%s", suggest(k, names))
		}
	}
}

// abs resolves a path written in the file against the file's folder.
func (d *decoder) abs(path string) string {
	return resolve(d.cfg.Dir, path)
}

// resolvePaths makes the single-path settings absolute ("" stays "").
func (c *Config) resolvePaths() {
	c.Agentd.PacksDir = resolve(c.Dir, c.Agentd.PacksDir)
	c.Log.File = resolve(c.Dir, c.Log.File)
	for i := range c.Exchange {
		t := &c.Exchange[i].TLS
		t.Cert, t.Key, t.CA = resolve(c.Dir, t.Cert), resolve(c.Dir, t.Key), resolve(c.Dir, t.CA)
	}
}

func resolve(dir, path string) string {
	switch {
	case path == "":
		return ""
	case filepath.IsAbs(path):
		return filepath.Clean(path)
	}
	return filepath.Join(dir, path)
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
