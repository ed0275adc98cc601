// Package pack makes, checks, installs and tests script packs: folders
// (or .tar.gz archives of them) holding a pack.toml manifest, the Lua
// scripts it runs, modules under lib/ and tests under test/. spec/packs.md
// is the reference for users; this comment states the model.
//
// # Manifests
//
// LoadManifest and DecodeManifest decode pack.toml with internal/config's
// Document, so every problem is a config.Error naming file, line and key,
// all returned together. Versions are strict semantic versions and ranges
// use github.com/Masterminds/semver's syntax.
//
// # Archives
//
// Build writes a reproducible archive: SHA256SUMS first, then every file
// in path order, with fixed times, owners and modes. Install reads an
// archive into memory (bounded), unpacks it into a hidden folder inside
// the packs folder, verifying every entry (see unpack) and the checksums,
// checks the manifest, the ranges and the installed version, runs the
// pack's tests, and renames the folder into place; an upgrade exchanges
// the two folders in one renameat2 on Linux. Install and Remove hold an
// flock on PACKS/.lock, so two of them never interleave. Nothing of a
// failed install stays behind.
//
// # Reading installed packs
//
// Install and Remove never change the files of an installed pack's
// folder; they rename whole folders (and delete a folder only once it is
// hidden). A reader that reads a pack in several steps (pack.toml, then
// the scripts it names, then the scripts' contents) can still straddle
// such a rename and see a mixture of two versions, or a pack that lacks
// files: FolderID tells it so. ReadPack (and Scan, which uses it) reads a
// manifest from one folder, reading again when the folder was replaced
// while it read; a daemon compares the FolderID it read a pack from with
// the folder there once it has acted on it. Nothing locks: readers never
// wait for an install.
//
// # Tests
//
// RunTests runs each test/*_test.lua in a runtime and Lua host of its
// own, with the pack's scripts loaded first, and waits (in real time, up
// to the [test] timeout) for test.done(), a failed callback or the
// runtime's end. The agentd.test helper is a Lua module bundled into the
// host (testlib.lua); test.done() calls a Go function given as a module.
// Failures are read from the host's error log records; the runtime's
// callback-error counter says whether one was a failure.
//
// # Status
//
// A running daemon writes PACKS/.status.json (WriteStatus: written beside
// and renamed) and List reads it, ignoring a file whose process is gone.
//
// Nothing in the package keeps state between calls; its functions may be
// called from any goroutine, and RunTests's runtimes are shut down before
// it returns.
package pack
