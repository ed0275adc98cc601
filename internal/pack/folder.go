package pack

import (
	"fmt"
	"os"
)

// A FolderID tells apart the folders that one path names over time.
//
// Install and Remove never change the files of an installed pack: they
// rename whole folders (an upgrade exchanges the new folder with the old
// one, then deletes the old one under its hidden name; a removal renames
// the folder to a hidden name, then deletes it). So a reader that takes
// the FolderID of a pack's path before it reads the pack, and finds the
// same one afterwards, has read one version, whole. A different FolderID,
// or none, means that another folder was renamed into the path's place,
// or the folder away, while it read: what it read may mix two versions,
// or lack files that neither version lacks, and must be read again.
//
// Two FolderIDs are the same when they are of the same folder (device and
// inode, as os.SameFile tells) with the same modification time, which
// changes when a file is added to the folder or removed from it.
type FolderID struct {
	fi os.FileInfo
}

// FolderIDOf returns the FolderID of the folder that dir names now
// (following symbolic links).
func FolderIDOf(dir string) (FolderID, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return FolderID{}, err
	}
	if !fi.IsDir() {
		return FolderID{}, fmt.Errorf("%s is not a folder", dir)
	}
	return FolderID{fi: fi}, nil
}

// Replaced reports whether dir names another folder than id now, or
// none, or a folder that gained or lost files.
func (id FolderID) Replaced(dir string) bool {
	now, err := FolderIDOf(dir)
	return err != nil || id.fi == nil || !os.SameFile(id.fi, now.fi) || !id.fi.ModTime().Equal(now.fi.ModTime())
}

// maxReads bounds how many times ReadPack reads a folder that keeps being
// replaced while it reads it.
const maxReads = 4

// ReadPack is LoadManifest done on one folder: when another folder takes
// dir's place while the manifest is read and checked against the files,
// it is read again (up to 4 times in all; the last read is returned
// whatever happens during it). It returns the FolderID the manifest was
// read from. When dir does not exist (or no longer does), the error
// wraps fs.ErrNotExist and the FolderID is the zero one.
func ReadPack(dir string) (*Manifest, FolderID, error) {
	return readPack(dir, LoadManifest)
}

// readPack is ReadPack with the reading given (tests replace a folder in
// the middle of it).
func readPack(dir string, load func(dir string) (*Manifest, error)) (*Manifest, FolderID, error) {
	for n := 1; ; n++ {
		id, err := FolderIDOf(dir)
		if err != nil {
			return nil, FolderID{}, fmt.Errorf("pack: %w", err)
		}
		m, err := load(dir)
		if n == maxReads || !id.Replaced(dir) {
			return m, id, err
		}
	}
}
