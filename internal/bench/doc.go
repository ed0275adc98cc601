// Package bench runs agentd's whole-system benchmarks (agentd bench):
// scenarios with real Lua scripts in real agentd processes on loopback,
// each next to its baseline measured in the same run, and prints one
// table of figures, targets, ratios, CPU time per operation and the
// machine's load.
//
// # Processes
//
// Run starts every process it measures as a child: the agentd binary
// (Options.Binary, the running executable for agentd bench) with
// `run -c` on a configuration generated in a temporary folder, with the
// Lua scripts of lua/ (embedded), and, for the raw NATS baselines, the
// same binary's hidden `bench-peer` command, whose roles are in peer.go.
// Hubs listen on 127.0.0.1 at a port the system picks; the bench reads
// the address from the hub's log (or a raw peer's `BENCH listening`
// line). Cross-process scenarios come in two topologies: the publisher
// (or callee) in the hub's own process, and a hub that runs no scripts
// with two clients; the raw baseline always has the same one. A Lua driver (the publisher, the
// caller, a watcher) prints result lines, `BENCH start` and
// `BENCH done key=value ...`, which the bench reads; it takes each
// process's CPU time from /proc/PID/stat at those two lines.
//
// # Goroutines
//
// Run works on the caller's goroutine. Each child has two goroutines
// reading its standard output and error into one list of lines, and one
// waiting for it to exit; all end when the child has exited, and Run
// stops every child it started before it returns.
//
// # Files
//
//	bench.go      Options, Run, the scenario list
//	scenarios.go  the scenarios and their measurements
//	table.go      the results: rows, verdicts, the table, JSON
//	process.go    a child process: lines, CPU time, stop
//	config.go     the configurations and folders of agentd children
//	peer.go       the raw NATS peers (bench-peer)
//	lua/          the Lua scripts the scenarios run
package bench
