// Package config reads agentd's config.toml.
//
// # Model
//
// A Config is a plain value: Default holds every default, Decode (or Load)
// starts from it and overwrites what the file sets. Nothing in the package
// keeps state between calls; a Config is not modified after Decode returns
// and may be shared read-only. Reload is the caller's business: decode the
// new file, and keep the old Config if that fails.
//
// # Strictness
//
// The file is first parsed into generic TOML values; the package then walks
// them against the schema itself, so that nothing is accepted by accident:
//
//   - an unknown key is an error; a key that matches a known one except in
//     case (Hot_Reload, [Agentd]) or within two typing mistakes
//     (hot_relaod) says which key was meant;
//   - a value of the wrong type is an error (no conversion between strings,
//     numbers and booleans);
//   - durations are strings for time.ParseDuration ("5s", "250ms"); a bare
//     number is an error, since 5 would otherwise mean five nanoseconds, and
//     a negative duration is an error;
//   - enumerations (log level and format, exchange role), numeric ranges and
//     the rules between keys (listen, insecure and [exchange.cluster] only
//     on a server, connect only and always on a client, retry only on a
//     client) are checked, and so are exchange group names (ValidGroup)
//     and route URLs; a hub reachable from other machines (Loopback) with
//     neither a token nor client certificates is refused unless insecure;
//   - [config.NAME] tables are free-form and kept as plain values, but every
//     entry directly under [config] must be a table.
//
// Relative paths (scripts, packs_dir, log.file, TLS files) are resolved
// against the folder of the config file, never the working directory.
// ResolveScripts expands the scripts entries into .lua files and reports
// entries that do not exist; a file reached through several paths
// (symbolic links) is listed once, at the first (RealPath compares them).
// Load reads the file with package regfile: a named pipe or a device is
// refused at once, and files over regfile.MaxSize are refused.
//
// # Errors
//
// Every problem is an *Error carrying the file name, the 1-based line, the
// full key and a message, printed as
//
//	config.toml:7: agentd.hot_reload: expected a boolean, got string "yes"
//
// Keys are dotted paths; elements of arrays and of arrays of tables carry a
// 1-based index, as in exchange[2].role or agentd.scripts[1]. A TOML syntax
// error has no key but a column: "config.toml:3:9: message". A key whose line
// cannot be found is printed without one: "config.toml: key: message".
//
// Decoding does not stop at the first problem: all of them are returned
// together as Errors, sorted by line, one per line of its Error text. Errors
// unwraps to its *Error values, so errors.As finds them.
//
// A document nesting keys or values more than 64 levels deep is refused
// before decoding (the TOML library slows down quadratically on such input).
//
// BurntSushi/toml does not report where keys are, so the package scans the
// file text itself to map each key to its line. Keys inside inline tables
// and multi-line arrays map to the line where they are written; a key that
// cannot be located takes the line of its table.
package config
