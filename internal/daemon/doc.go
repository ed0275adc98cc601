// Package daemon assembles agentd from a configuration: the logger, the
// runtime, the Lua host and the scripts, the script packs (packs.go: every
// pack is started, reloaded and stopped under ops, like the scripts, and
// its state is written to packs_dir/.status.json), the file watcher and
// SIGHUP reconfiguration. cmd/agentd only parses flags, handles signals and turns
// results into exit codes.
//
// The exchange (exchange.go) is made with the runtime; Start adds its
// endpoints, servers first, before any pack or script starts, and
// Reconfigure adds and removes client endpoints under ops (a change to a
// server endpoint is refused). The runtime's shutdown stops the
// exchange's agents after every other, so the last reports and
// withdrawals still go out.
//
// # Goroutines and the ops mutex
//
// Three callers start, reload and stop scripts: Start, the watcher's loop
// (one goroutine, started by Start when hot reload is on) and Reconfigure
// (SIGHUP, from cmd/agentd's goroutine). The ops mutex serializes them; it
// guards the table of scripts (path → running version, content hashes,
// required modules) and the configuration in force. Everything the daemon
// does to a script's agent goes through luabind, which runs it on the
// agent's own goroutine.
//
// Files are read while ops is held, and that is safe because no read can
// wait: every read goes through package regfile, which refuses named
// pipes, devices and sockets before reading a byte and reads at most 4
// MiB. So a SIGHUP never waits behind a read for longer than one bounded
// read, and Close, which stops the watcher's loop, neither; a rescan
// stops early once Close has begun.
//
// # Files and versions
//
// A path is looked at, not interpreted from its events: after a settled
// change the daemon reads the file and compares its SHA-256 with the
// running version's. Only a missing file (or one the configuration no
// longer names) stops a script. A file that cannot be read is a refused
// reload; an empty file (or white space only) is taken as being written
// and never replaces a running version; a file that changed while read is
// waited for. Event paths are matched to scripts and modules by real path
// (config.RealPath), since a watched folder may be reached through links.
//
// # Packs replaced while read
//
// An install or a removal renames whole pack folders at any moment, also
// while syncPacks reads a pack or starts and reloads its scripts. Each
// pack is read from one folder (pack.ReadPack) and remembered with its
// pack.FolderID; before acting on a pack, after each failed load or
// reload of one of its scripts, and after it is done with it, syncPacks
// checks that the same folder is still there. If not, what it read may
// mix two versions: failures are not the pack's (errReplaced: neither
// logged nor kept), a pack being started stops again, and syncPacks looks
// at all packs once more (at most packPasses times in a row).
//
// # Output
//
// What scripts print goes through a printer that never fails: a write
// error (a closed pipe) drops the line and counts it, and the first of a
// run of failures is logged.
package daemon
