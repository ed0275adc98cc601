// Package regfile reads the files agentd is told to read — scripts,
// modules and the configuration — without ever blocking on one that is
// not a plain file.
//
// A name in a watched folder can be anything: a named pipe (opening it
// for reading waits for a writer), a link to /dev/zero (reading it never
// ends), a socket, a device. Read refuses all of them before reading a
// byte: it looks at the path first, opens it without blocking
// (O_NONBLOCK), checks again on the open file what it really is (the name
// may have changed in between), and reads at most MaxSize bytes. So a
// Read always ends, quickly, whatever lies at the path, and a caller may
// hold a lock around it.
//
// Read also notices a file that changes while it is read (its size or
// modification time moved, or it ended before its size), which means
// someone is writing it: ErrChanging.
//
// The package is a leaf: it imports nothing of the project, keeps no
// state and may be called from any goroutine.
package regfile
