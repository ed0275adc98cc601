package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/agentd/agentd/internal/bench"
)

// cmdBench runs `agentd bench`: whole-system scenarios in child agentd
// processes (this executable), printed as one table.
func cmdBench(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("agentd bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	run := fs.String("run", "", "scenarios to run, comma-separated names or prefixes (default: all; -list lists them)")
	list := fs.Bool("list", false, "list the scenarios and exit")
	opts := bench.Options{}
	fs.DurationVar(&opts.Time, "time", 0, "each throughput or latency measurement (default 3s)")
	fs.IntVar(&opts.Rounds, "rounds", 0, "rounds of each measurement and its baseline, alternately (default 3)")
	fs.IntVar(&opts.Repeat, "repeat", 0, "kills and hub restarts (default 5)")
	fs.DurationVar(&opts.Retry, "retry", 0, "the clients' retry in the hub-restart scenario (default 1s)")
	fs.StringVar(&opts.ProfileDir, "profile", "", "write a CPU profile of every child process to this folder")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	quiet := fs.Bool("q", false, "no progress lines on standard error")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "agentd bench: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if *list {
		for _, s := range bench.Scenarios() {
			fmt.Fprintf(stdout, "%-11s %s\n", s.Name, s.About)
		}
		return exitOK
	}
	if *run != "" {
		opts.Scenarios = strings.Split(*run, ",")
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "agentd bench:", err)
		return exitFailure
	}
	opts.Binary = exe
	if !*quiet {
		opts.Progress = stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := bench.Run(ctx, opts)
	if rep != nil {
		rep.Command = "agentd bench " + strings.Join(args, " ")
		if *asJSON {
			if err := bench.WriteJSON(stdout, *rep); err != nil {
				fmt.Fprintln(stderr, "agentd bench:", err)
				return exitFailure
			}
		} else if len(rep.Rows) > 0 {
			fmt.Fprintf(stdout, "%s, %s\n`%s`\n\n", rep.Machine, rep.Started.Format("2006-01-02 15:04 MST"), rep.Command)
			bench.WriteTable(stdout, rep.Rows)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "agentd bench:", err)
		return exitFailure
	}
	return exitOK
}

// cmdBenchPeer runs a raw NATS peer of agentd bench (hidden: bench
// starts it). SIGTERM ends it in order.
func cmdBenchPeer(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := bench.Peer(ctx, args, stdout); err != nil {
		fmt.Fprintln(stderr, err)
		return exitFailure
	}
	return exitOK
}

// profiled runs fn and, if the environment names a file in
// bench.ProfileEnv, writes a CPU profile of the run there.
func profiled(stderr io.Writer, fn func() int) int {
	path := os.Getenv(bench.ProfileEnv)
	if path == "" {
		return fn()
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(stderr, "agentd: %s: %v\n", bench.ProfileEnv, err)
		return fn()
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(stderr, "agentd: %s: %v\n", bench.ProfileEnv, err)
		f.Close()
		return fn()
	}
	code := fn()
	pprof.StopCPUProfile()
	if err := f.Close(); err != nil {
		fmt.Fprintf(stderr, "agentd: %s: %v\n", bench.ProfileEnv, err)
	}
	return code
}
