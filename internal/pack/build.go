package pack

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// epoch is the modification time of every entry of a built archive.
var epoch = time.Unix(0, 0).UTC()

// ArchiveName is the default file name of a built pack: NAME-VERSION.tar.gz.
func (m *Manifest) ArchiveName() string {
	return m.Name + "-" + m.Version.String() + ".tar.gz"
}

// Build validates the pack in the folder dir (its manifest, and every Lua
// file must compile) and writes it to w as a .tar.gz archive. The archive
// depends only on the files' paths and contents: entries are sorted, every
// time is the Unix epoch, owners are 0 with no names, modes are 0644, and
// the gzip header carries no name and no time, so building the same folder
// twice gives the same bytes (with the same agentd build: a different
// compressor could compress differently). The first entry is SHA256SUMS,
// the SHA-256 of every other file.
func Build(dir string, w io.Writer) (*Manifest, error) {
	m, err := LoadManifest(dir)
	if err != nil {
		return nil, err
	}
	if err := compileAll(dir); err != nil {
		return nil, err
	}
	files, err := collect(dir)
	if err != nil {
		return nil, err
	}
	contents := make([][]byte, len(files))
	var sums bytes.Buffer
	for i, f := range files {
		data, err := readRegular(f.path, limits.file)
		if err != nil {
			return nil, fmt.Errorf("pack: %w", err)
		}
		contents[i] = data
		sum := sha256.Sum256(data)
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(sum[:]), f.rel)
	}
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(zw)
	add := func(name string, data []byte) error {
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     name,
			Size:     int64(len(data)),
			Mode:     0o644,
			ModTime:  epoch,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := add(SumsName, sums.Bytes()); err != nil {
		return nil, err
	}
	for i, f := range files {
		if err := add(f.rel, contents[i]); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return m, nil
}

// BuildFile builds the pack in dir into the file out (by default
// NAME-VERSION.tar.gz in the working folder), written beside and renamed
// into place, and returns the manifest and the file's path.
func BuildFile(dir, out string) (*Manifest, string, error) {
	var buf bytes.Buffer
	m, err := Build(dir, &buf)
	if err != nil {
		return nil, "", err
	}
	if out == "" {
		out = m.ArchiveName()
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".build-*")
	if err != nil {
		return nil, "", fmt.Errorf("pack: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return nil, "", fmt.Errorf("pack: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return nil, "", fmt.Errorf("pack: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, "", fmt.Errorf("pack: %w", err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return nil, "", fmt.Errorf("pack: %w", err)
	}
	return m, out, nil
}
