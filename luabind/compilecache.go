package luabind

import (
	"bytes"
	"crypto/sha256"
	"os"
	"time"

	"github.com/agentd/agentd/internal/regfile"
	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// The host compiles each script and module file once per version: a
// Load of an unchanged file neither reads nor hashes it again. A version
// is recognised by its file's stamp (device, inode, size, modification
// and change times); the change time moves on every write and cannot be
// set back by a program. A stamp is trusted only when the file had not
// changed for racyWindow before it was read: a write in the same clock
// tick as the read could otherwise leave the stamp as it was (git's
// "racily clean" files). Until then, each Load reads the file and
// compares its hash, as it always did.
const racyWindow = 100 * time.Millisecond

type compiled struct {
	sum     [32]byte
	proto   *lua.FunctionProto
	stamp   fileStamp
	trusted bool // stamp identifies the content hashed in sum
}

// compile returns the compiled form of the file at path, and the SHA-256
// of the content it was compiled from.
func (h *Host) compile(path string) (*lua.FunctionProto, [32]byte, error) {
	h.mu.Lock()
	c := h.protos[path]
	h.mu.Unlock()
	if c != nil && c.trusted {
		if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
			if s, ok := stampOf(fi); ok && s == c.stamp {
				return c.proto, c.sum, nil
			}
		}
	}
	name := DisplayPath(path)
	h.fileReads.Add(1)
	readAt := time.Now()
	data, fi, err := regfile.ReadInfo(path)
	if err != nil {
		return nil, [32]byte{}, &ScriptError{File: name, Msg: "cannot read: " + regfile.Reason(err)}
	}
	sum := sha256.Sum256(data)
	next := &compiled{sum: sum}
	next.stamp, next.trusted = stampOf(fi)
	next.trusted = next.trusted && stable(next.stamp, readAt)
	if c != nil && c.sum == sum {
		next.proto = c.proto
	} else {
		chunk, err := parse.Parse(bytes.NewReader(data), name)
		if err != nil {
			return nil, sum, syntaxError(name, data, err)
		}
		if ce := checkChunk(chunk, name); ce != nil {
			return nil, sum, &ScriptError{File: name, Line: ce.line, Msg: ce.msg}
		}
		proto, err := lua.Compile(chunk, name)
		if err != nil {
			return nil, sum, syntaxError(name, data, err)
		}
		next.proto = proto
	}
	h.mu.Lock()
	h.protos[path] = next
	h.mu.Unlock()
	return next.proto, sum, nil
}

// stable reports whether a file with stamp s, read at readAt, had been
// left alone long enough for its stamp to identify what was read.
func stable(s fileStamp, readAt time.Time) bool {
	limit := readAt.Add(-racyWindow).UnixNano()
	return s.mtime < limit && s.ctime < limit
}

// fileStamp identifies one version of a file without reading it.
type fileStamp struct {
	dev, ino     uint64
	size         int64
	mtime, ctime int64 // nanoseconds since the epoch
}
