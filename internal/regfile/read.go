package regfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// MaxSize is the largest file Read accepts: 4 MiB.
const MaxSize = 4 << 20

// Reasons Read refuses a file; its errors are *fs.PathError with Op
// "read" wrapping one of them, or the system's error for the open itself
// (a missing file is fs.ErrNotExist, as with os.Open).
var (
	ErrNotRegular = errors.New("not a regular file")
	ErrTooLarge   = fmt.Errorf("larger than %d MiB", MaxSize>>20)
	ErrChanging   = errors.New("changed while being read")
)

// A kindError says what a path that is not a regular file is.
type kindError struct{ mode fs.FileMode }

func (e kindError) Error() string { return ErrNotRegular.Error() + " (" + kind(e.mode) + ")" }

func (e kindError) Is(target error) bool { return target == ErrNotRegular }

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "mode " + m.Type().String()
}

// Read returns the content of the regular file at path, following
// symbolic links. It refuses, without blocking, anything else, and a file
// larger than MaxSize.
func Read(path string) ([]byte, error) {
	data, _, err := ReadInfo(path)
	return data, err
}

// ReadInfo is Read that also returns the file's information as it was
// when the content had been read (from the open file).
func ReadInfo(path string) ([]byte, fs.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if err := check(path, fi); err != nil {
		return nil, nil, err
	}
	// O_NONBLOCK: if a pipe took the file's place since the Stat, the
	// open returns at once instead of waiting for a writer.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if err := check(path, before); err != nil {
		return nil, nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, nil, err
	}
	if len(data) > MaxSize {
		return nil, nil, &fs.PathError{Op: "read", Path: path, Err: ErrTooLarge}
	}
	after, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if int64(len(data)) != before.Size() || after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) {
		return nil, nil, &fs.PathError{Op: "read", Path: path, Err: ErrChanging}
	}
	return data, after, nil
}

// check refuses what is not a regular file of at most MaxSize bytes.
func check(path string, fi fs.FileInfo) error {
	switch {
	case !fi.Mode().IsRegular():
		return &fs.PathError{Op: "read", Path: path, Err: kindError{fi.Mode()}}
	case fi.Size() > MaxSize:
		return &fs.PathError{Op: "read", Path: path, Err: ErrTooLarge}
	}
	return nil
}

// Reason returns what is wrong, without the path: "not a regular file (a
// named pipe)", "permission denied", "no such file or directory".
func Reason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
