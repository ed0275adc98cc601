package pack

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// An ArchiveError says what is wrong with an archive, naming the entry
// when there is one.
type ArchiveError struct {
	Entry string // the entry's name as written in the archive; "" for the archive as a whole
	Msg   string
}

func (e *ArchiveError) Error() string {
	if e.Entry == "" {
		return "pack: archive refused: " + e.Msg
	}
	return fmt.Sprintf("pack: archive refused: entry %q: %s", e.Entry, e.Msg)
}

var errBomb = errors.New("decompression bomb")

// limitedReader fails with errBomb past n bytes.
type limitedReader struct {
	r io.Reader
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errBomb
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// unpack checks the archive in data and writes its files into dst, an
// empty folder. It refuses, naming the entry: absolute paths, paths with
// "..", hidden names, links, device files, FIFOs and any other kind of
// entry but files and folders; a file, or files together, beyond the
// limits; an archive that expands beyond lim.stream() (a decompression
// bomb); a truncated or corrupt archive; a missing SHA256SUMS, a file it
// does not list, a listed file missing, or a checksum that differs. On
// error dst may hold part of the files: the caller removes it.
func unpack(data []byte, dst string, lim sizeLimits) error {
	if int64(len(data)) > lim.archive {
		return &ArchiveError{Msg: fmt.Sprintf("%d bytes; an archive has at most %d", len(data), lim.archive)}
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return &ArchiveError{Msg: "not a gzip-compressed tar archive (" + err.Error() + ")"}
	}
	stream := &limitedReader{r: zr, n: lim.stream()}
	tr := tar.NewReader(stream)
	corrupt := func(entry string, err error) error {
		switch {
		case errors.Is(err, errBomb):
			return &ArchiveError{Entry: entry, Msg: fmt.Sprintf("the archive expands to more than %d bytes (a decompression bomb?)", lim.stream())}
		case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
			return &ArchiveError{Entry: entry, Msg: "truncated archive"}
		}
		return &ArchiveError{Entry: entry, Msg: "corrupt archive: " + err.Error()}
	}
	var (
		sums  []byte
		got   = map[string][32]byte{} // file → SHA-256
		total int64
		count int
		dirs  = map[string]bool{}
	)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return corrupt("", err)
		}
		name := hdr.Name
		rel, problem := entryPath(name)
		if problem != "" {
			return &ArchiveError{Entry: name, Msg: problem}
		}
		if _, dup := got[rel]; dup || dirs[rel] || rel == SumsName && sums != nil {
			return &ArchiveError{Entry: name, Msg: "appears twice"}
		}
		switch hdr.Typeflag {
		case tar.TypeReg:
		case tar.TypeDir:
			dirs[rel] = true
			if err := os.MkdirAll(filepath.Join(dst, filepath.FromSlash(rel)), 0o755); err != nil {
				return &ArchiveError{Entry: name, Msg: err.Error()}
			}
			continue
		case tar.TypeSymlink:
			return &ArchiveError{Entry: name, Msg: "is a symbolic link (to " + hdr.Linkname + "); a pack holds regular files only"}
		case tar.TypeLink:
			return &ArchiveError{Entry: name, Msg: "is a hard link (to " + hdr.Linkname + "); a pack holds regular files only"}
		case tar.TypeChar, tar.TypeBlock:
			return &ArchiveError{Entry: name, Msg: "is a device file; a pack holds regular files only"}
		case tar.TypeFifo:
			return &ArchiveError{Entry: name, Msg: "is a FIFO; a pack holds regular files only"}
		default:
			return &ArchiveError{Entry: name, Msg: fmt.Sprintf("has entry type %q; a pack holds regular files only", hdr.Typeflag)}
		}
		if hdr.Size < 0 || hdr.Size > lim.file {
			return &ArchiveError{Entry: name, Msg: fmt.Sprintf("is %d bytes; a file of a pack has at most %d", hdr.Size, lim.file)}
		}
		if total += hdr.Size; total > lim.pack {
			return &ArchiveError{Entry: name, Msg: fmt.Sprintf("the files add up to more than %d bytes", lim.pack)}
		}
		if count++; count > lim.files+1 {
			return &ArchiveError{Entry: name, Msg: fmt.Sprintf("more than %d files", lim.files)}
		}
		if rel == SumsName {
			sums, err = io.ReadAll(tr)
			if err != nil {
				return corrupt(name, err)
			}
			continue
		}
		sum, err := writeEntry(tr, filepath.Join(dst, filepath.FromSlash(rel)))
		if err != nil {
			var ae *ArchiveError
			if errors.As(err, &ae) {
				ae.Entry = name
				return ae
			}
			return corrupt(name, err)
		}
		got[rel] = sum
	}
	// read the rest of the stream, so that gzip checks its checksum
	if _, err := io.Copy(io.Discard, stream); err != nil {
		return corrupt("", err)
	}
	return checkSums(sums, got)
}

// writeEntry writes one file and returns its SHA-256.
func writeEntry(r io.Reader, path string) ([32]byte, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return [32]byte{}, &ArchiveError{Msg: err.Error()}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return [32]byte{}, &ArchiveError{Msg: err.Error()}
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(f, h), r)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = &ArchiveError{Msg: cerr.Error()}
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum, err
}

// entryPath checks the name of an archive entry and returns the path it
// stands for, or what is wrong with it.
func entryPath(name string) (string, string) {
	switch {
	case name == "":
		return "", "empty name"
	case strings.ContainsRune(name, 0):
		return "", "a NUL byte in the name"
	case strings.HasPrefix(name, "/") || filepath.IsAbs(name) || len(name) > 1 && name[1] == ':':
		return "", "absolute path"
	case strings.Contains(name, "\\"):
		return "", `a '\' in the name`
	case len(name) > maxPathLen+1:
		return "", fmt.Sprintf("a path in a pack has at most %d bytes", maxPathLen)
	}
	trimmed := strings.TrimSuffix(name, "/")
	for _, part := range strings.Split(trimmed, "/") {
		switch {
		case part == "..":
			return "", `the path leads out of the pack ("..")`
		case part == "" || part == ".":
			return "", "not a clean path"
		case strings.HasPrefix(part, "."):
			return "", "hidden files and folders are not part of a pack"
		}
	}
	return path.Clean(trimmed), ""
}

// checkSums compares SHA256SUMS with the files unpacked.
func checkSums(sums []byte, got map[string][32]byte) error {
	if sums == nil {
		return &ArchiveError{Entry: SumsName, Msg: "missing: an archive lists the SHA-256 of its files (agentd pack build writes it)"}
	}
	listed := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(sums))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" {
			continue
		}
		hexSum, file, ok := strings.Cut(line, "  ")
		raw, err := hex.DecodeString(hexSum)
		if !ok || err != nil || len(raw) != sha256.Size {
			return &ArchiveError{Entry: SumsName, Msg: fmt.Sprintf("line %d: want \"SHA256HEX  PATH\"", n)}
		}
		if listed[file] {
			return &ArchiveError{Entry: SumsName, Msg: fmt.Sprintf("line %d: %s is listed twice", n, file)}
		}
		listed[file] = true
		sum, ok := got[file]
		if !ok {
			return &ArchiveError{Entry: file, Msg: "listed in " + SumsName + " but not in the archive"}
		}
		if !bytes.Equal(sum[:], raw) {
			return &ArchiveError{Entry: file, Msg: fmt.Sprintf("checksum mismatch: %s says %s, the file's is %x", SumsName, hexSum, sum)}
		}
	}
	if err := sc.Err(); err != nil {
		return &ArchiveError{Entry: SumsName, Msg: err.Error()}
	}
	for file := range got {
		if !listed[file] {
			return &ArchiveError{Entry: file, Msg: "not listed in " + SumsName}
		}
	}
	return nil
}
