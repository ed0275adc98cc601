// Command agentd runs Lua agents: `agentd run` starts the daemon on a
// configuration file, `agentd check` validates one, `agentd version`
// prints the version, `agentd pack ...` makes, tests, installs and
// removes script packs, `agentd bench` runs the whole-system benchmarks.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/agentd/agentd/internal/config"
	"github.com/agentd/agentd/internal/daemon"
)

// Version is agentd's version.
const Version = "0.1.0"

// Exit codes.
const (
	exitOK      = 0 // clean shutdown
	exitFailure = 1 // runtime failure, or scripts that do not load
	exitUsage   = 2 // usage or configuration error
)

const usage = `usage:
  agentd run   [-c config.toml]   run the daemon (default config: ./config.toml)
  agentd check [-c config.toml]   validate the configuration and compile every script
  agentd version                  print the version
  agentd pack  init|build|install|list|remove|test ...   script packs ("agentd pack help")
  agentd bench [-run NAMES] [-time 3s] [-rounds 3] [-json] ...   whole-system benchmarks ("agentd bench -h")
`

func main() {
	os.Exit(profiled(os.Stderr, func() int { return run(os.Args[1:], os.Stdout, os.Stderr) }))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "run":
		return cmdRun(args[1:], stdout, stderr)
	case "check":
		return cmdCheck(args[1:], stdout, stderr)
	case "pack":
		return cmdPack(args[1:], stdout, stderr)
	case "bench":
		return cmdBench(args[1:], stdout, stderr)
	case "bench-peer":
		return cmdBenchPeer(args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "agentd", Version)
		return exitOK
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "agentd: unknown command %q\n%s", args[0], usage)
	return exitUsage
}

// loadConfig parses the -c flag and decodes the configuration; it prints
// every problem and returns nil on failure.
func loadConfig(name string, args []string, stderr io.Writer) *config.Config {
	cfg, _ := loadConfigPath(name, args, stderr)
	return cfg
}

func loadConfigPath(name string, args []string, stderr io.Writer) (*config.Config, string) {
	fs := flag.NewFlagSet("agentd "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("c", "config.toml", "configuration file")
	if err := fs.Parse(args); err != nil {
		return nil, ""
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "agentd %s: unexpected argument %q\n", name, fs.Arg(0))
		return nil, ""
	}
	cfg, err := config.Load(*path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, ""
	}
	return cfg, *path
}

func cmdCheck(args []string, stdout, stderr io.Writer) int {
	cfg := loadConfig("check", args, stderr)
	if cfg == nil {
		return exitUsage
	}
	n, err := daemon.Check(cfg)
	packs, perr := daemon.CheckPacks(cfg)
	if err != nil || perr != nil {
		for _, e := range []error{err, perr} {
			if e != nil {
				fmt.Fprintln(stderr, e)
			}
		}
		return exitFailure
	}
	fmt.Fprintf(stdout, "%s: ok (%d scripts compiled, %d packs checked)\n", cfg.File, n, packs)
	return exitOK
}

func cmdRun(args []string, stdout, stderr io.Writer) int {
	cfg, path := loadConfigPath("run", args, stderr)
	if cfg == nil {
		return exitUsage
	}
	d, err := daemon.New(cfg, daemon.Options{Stdout: stdout, Stderr: stderr, Version: Version})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitFailure
	}
	// Signals first, so that none is lost while scripts start.
	//
	// A closed standard output or log pipe (agentd run | head -1) must not
	// kill the daemon: while SIGPIPE is notified, a write to a closed pipe
	// fails with EPIPE instead (see os/signal), and what scripts print is
	// dropped and counted (daemon). Notify, not Ignore: an ignored SIGPIPE
	// would be inherited by the programs scripts start with os.execute.
	pipe := make(chan os.Signal, 1)
	signal.Notify(pipe, syscall.SIGPIPE)
	defer signal.Stop(pipe)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)

	if err := d.Start(); err != nil {
		fmt.Fprintln(stderr, err)
		closeNow(d, stderr)
		return exitFailure
	}
wait:
	for {
		select {
		case <-d.Done():
			break wait // a script scheduled the shutdown
		case <-hup:
			reconfigure(d, path)
		case sig := <-sigs:
			d.Logger().Info("signal received: shutting down (send it again to exit at once)", "signal", sig.String())
			d.ScheduleShutdown()
			select {
			case <-d.Done():
				break wait
			case sig := <-sigs:
				d.Logger().Warn("second signal: exiting at once", "signal", sig.String())
				return exitFailure
			}
		}
	}
	if err := d.Close(context.Background()); err != nil {
		fmt.Fprintln(stderr, err)
		return exitFailure
	}
	return exitOK
}

// reconfigure re-reads the configuration file on SIGHUP; a file with
// errors, or one that changes what cannot change live, is refused and the
// running configuration stays in force.
func reconfigure(d *daemon.Daemon, path string) {
	log := d.Logger()
	cfg, err := config.Load(path)
	if err != nil {
		log.Error("SIGHUP: configuration not applied: the file has errors; the running configuration stays in force", "error", err.Error())
		return
	}
	if err := d.Reconfigure(cfg); err != nil {
		log.Error("SIGHUP: " + err.Error())
	}
}

// closeNow stops a daemon that failed to start, bounded in time.
func closeNow(d *daemon.Daemon, stderr io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.Close(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		fmt.Fprintln(stderr, err)
	}
}
