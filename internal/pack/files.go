package pack

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/agentd/agentd/luabind"
)

// sizeLimits bound a pack, when it is built and when it is installed.
type sizeLimits struct {
	files   int   // files in a pack
	file    int64 // bytes of one file
	pack    int64 // bytes of all files together
	archive int64 // bytes of a .tar.gz
}

// limits are the limits of every pack.
var limits = sizeLimits{files: 1000, file: 4 << 20, pack: 32 << 20, archive: 32 << 20}

// stream bounds the decompressed size of an archive: the files at their
// limit plus room for tar headers and padding. A gzip stream that expands
// beyond it is refused as a decompression bomb.
func (l sizeLimits) stream() int64 { return l.pack + int64(l.files+2)*4096 + 64<<10 }

const (
	maxPathLen      = 200     // bytes of a path inside the pack
	maxManifestSize = 1 << 20 // bytes of pack.toml
)

// SumsName is the file of an archive that lists the SHA-256 of every other
// file, in the form sha256sum prints and checks.
const SumsName = "SHA256SUMS"

// packFile is a file of a pack folder.
type packFile struct {
	rel  string // slash-separated path inside the pack
	path string // on disk
	size int64
}

// collect returns the files of the pack folder dir that make up the pack,
// sorted by path: every regular file except hidden files and folders (a
// name starting with '.') and editor leftovers (a name ending in '~' or
// written #like-this#). A symbolic link or any other kind of file is an
// error, as is a pack beyond the limits.
func collect(dir string) ([]packFile, error) { return collectWithin(dir, limits) }

func collectWithin(dir string, lim sizeLimits) ([]packFile, error) {
	var files []packFile
	var total int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == dir {
			if !d.IsDir() {
				return fmt.Errorf("pack: %s is not a folder", luabind.DisplayPath(dir))
			}
			return nil
		}
		name := d.Name()
		if ignored(name) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch t := d.Type(); {
		case d.IsDir():
			return nil
		case t&fs.ModeSymlink != 0:
			return fmt.Errorf("pack: %s is a symbolic link; a pack holds regular files only", rel)
		case !t.IsRegular():
			return fmt.Errorf("pack: %s is not a regular file; a pack holds regular files only", rel)
		}
		if rel == SumsName {
			return fmt.Errorf("pack: %s: the name %s is reserved for the archive's checksums", rel, SumsName)
		}
		if len(rel) > maxPathLen {
			return fmt.Errorf("pack: %s: a path in a pack has at most %d bytes", rel, maxPathLen)
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if fi.Size() > lim.file {
			return fmt.Errorf("pack: %s is %d bytes; a file of a pack has at most %d", rel, fi.Size(), lim.file)
		}
		total += fi.Size()
		files = append(files, packFile{rel: rel, path: path, size: fi.Size()})
		if len(files) > lim.files {
			return fmt.Errorf("pack: more than %d files", lim.files)
		}
		if total > lim.pack {
			return fmt.Errorf("pack: the files add up to more than %d bytes", lim.pack)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(files, func(a, b packFile) int { return strings.Compare(a.rel, b.rel) })
	return files, nil
}

// ignored reports whether a file or folder name is left out of a pack.
func ignored(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasSuffix(name, "~") ||
		len(name) > 1 && strings.HasPrefix(name, "#") && strings.HasSuffix(name, "#")
}

// readRegular reads a regular file of at most max bytes.
func readRegular(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, max)
	}
	return data, nil
}

// errNotPack says that a folder has no pack.toml.
var errNotPack = errors.New("no " + ManifestName)

// Digest returns a SHA-256 over the paths and contents of the files of
// the pack folder dir (those Build would pack), to tell whether any of
// them changed.
func Digest(dir string) ([32]byte, error) {
	files, err := collect(dir)
	if err != nil {
		return [32]byte{}, err
	}
	h := sha256.New()
	for _, f := range files {
		data, err := readRegular(f.path, limits.file)
		if err != nil {
			return [32]byte{}, err
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(h, "%x  %s\n", sum, f.rel)
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out, nil
}

// Compile compiles every Lua file of the pack folder dir; the error lists
// every file that does not compile, each with file:line.
func Compile(dir string) error { return compileAll(dir) }
