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
