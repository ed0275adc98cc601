package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agentd/agentd/exchange"
	"github.com/agentd/agentd/internal/config"
	"github.com/agentd/agentd/internal/logging"
	"github.com/agentd/agentd/internal/watch"
	"github.com/agentd/agentd/luabind"
	"github.com/agentd/agentd/runtime"
)

// Options are what the process gives the daemon.
type Options struct {
	Stdout  io.Writer // what scripts print
	Stderr  io.Writer // the log, unless the configuration names a file
	Version string    // agentd's version, checked against the packs' agentd ranges

	processIdentity string // tests: several daemons in one process need their own
}

// A Daemon is a running agentd.
type Daemon struct {
	cfg *config.Config // guarded by ops
	// tables is the configuration scripts' agentd.config comes from; it
	// is read on agent goroutines, so it is swapped atomically.
	tables atomic.Pointer[config.Config]
	opts   Options
	log    *slog.Logger
	level  *slog.LevelVar
	logf   *os.File // the log file, if any
	rt     *runtime.Runtime
	host   *luabind.Host
	x      *exchange.Exchange // its endpoints change under ops

	// ops serializes everything that starts, reloads or stops scripts:
	// start-up, the file watcher's loop and SIGHUP.
	ops       sync.Mutex
	scripts   map[string]*script      // by absolute path
	packs     map[string]*runningPack // by pack name
	started   time.Time
	statusDir string // where the packs status file was written
	watcher   *watch.Watcher
	watchDone chan struct{}

	quit     chan struct{} // closed when Close begins: long scans stop early
	quitOnce sync.Once
	stdout   *printer

	// Tests set these to change pack folders at chosen moments: packsFound
	// is called by syncPacks after it has read the pack folders and before
	// it acts on what it read; packScript before each pack script is
	// loaded or reloaded.
	packsFound func()
	packScript func(pack, rel string)
}

// ErrNoScripts is returned by Start when scripts were configured but none could start.
var ErrNoScripts = errors.New("daemon: no script could be started")

// New builds a daemon from cfg; nothing runs until Start.
func New(cfg *config.Config, opts Options) (*Daemon, error) {
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	if opts.Stderr == nil {
		opts.Stderr = io.Discard
	}
	d := &Daemon{cfg: cfg, opts: opts, level: new(slog.LevelVar), scripts: make(map[string]*script),
		packs: make(map[string]*runningPack), quit: make(chan struct{})}
	level, err := logging.ParseLevel(cfg.Log.Level)
	if err != nil {
		return nil, err
	}
	d.level.Set(level)
	w := opts.Stderr
	if cfg.Log.File != "" {
		f, err := os.OpenFile(cfg.Log.File, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("daemon: log file: %w", err)
		}
		d.logf, w = f, f
	}
	d.log = logging.New(w, cfg.Log.Format, d.level)
	d.stdout = &printer{w: opts.Stdout, log: d.log}
	d.rt = runtime.New(runtime.Options{
		Logger:          d.log,
		MailboxSize:     cfg.Agentd.MailboxSize,
		RequestTimeout:  cfg.Agentd.RequestTimeout,
		ShutdownDelay:   shutdownDelay(cfg.Agentd.ShutdownDelay),
		ProcessIdentity: opts.processIdentity,
	})
	d.x = exchange.New(d.rt, exchange.Options{Logger: d.log, Version: opts.Version,
		// the host exists before any endpoint is added (Start)
		OnContentLimit: func(n int) { d.host.SetMaxContentSize(n) }})
	setMemoryLimit(cfg.Agentd.MemoryLimit)
	setGCPercent(os.Getenv)
	d.host = luabind.NewHost(d.rt, luabind.Options{
		Logger:        d.log,
		Stdout:        d.stdout,
		CallbackLimit: cfg.Agentd.CallbackLimit,
		AllocLimit:    cfg.Agentd.AllocLimit,
		MemoryLimit:   uint64(cfg.Agentd.MemoryLimit),
		AllowIO:       cfg.Sandbox.AllowIO,
		AllowExec:     cfg.Sandbox.AllowExec,
		Config:        func(name string) map[string]any { return d.tables.Load().Table(name) },
	})
	d.tables.Store(cfg)
	return d, nil
}

// setMemoryLimit makes memory_limit the garbage collector's soft limit, so
// that garbage alone keeps the heap under it and the watchdog (which stops
// callbacks over it) acts only when live data passes it. A limit set with
// GOMEMLIMIT in the environment, or by an earlier daemon of this process,
// stays.
func setMemoryLimit(limit int64) {
	if limit > 0 && debug.SetMemoryLimit(-1) == math.MaxInt64 {
		debug.SetMemoryLimit(limit)
	}
}

// gcPercent is the garbage collector's target that agentd chooses: a
// collection starts when the heap has grown by this percentage of the
// live data since the last one (Go's default is 100). agentd allocates
// fast (a table per report and subscriber) and keeps a large, stable live
// heap (about 45 KiB per idle agent), so a collection is costly and
// little is gained by running it often; memory_limit, the collector's
// soft limit, keeps the heap under the limit all the same. Measured in
// BENCHMARKS.md.
const gcPercent = 300

// GCPercent is the garbage collector's target agentd run chooses, for
// programs that must run as agentd does (agentd bench's raw baselines).
const GCPercent = gcPercent

// setGCPercent applies gcPercent, unless GOGC is set in the environment:
// then the operator's choice, which Go has applied, stays.
func setGCPercent(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}

// shutdownDelay maps the configured delay onto runtime.Options, where 0
// means "default": a configured 0 becomes a negative (immediate) delay.
func shutdownDelay(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// Logger returns the daemon's logger.
func (d *Daemon) Logger() *slog.Logger { return d.log }

// Runtime returns the daemon's runtime.
func (d *Daemon) Runtime() *runtime.Runtime { return d.rt }

// Start starts the exchange's endpoints (servers first), then every pack
// (agentd.packs folders and the packs installed in packs_dir) whose
// ranges are met, then every configured script. Scripts and packs that
// fail to load are logged with file and line and left out; Start fails
// when a script path is missing, when an exchange endpoint cannot start
// (a hub that cannot listen, a TLS file that cannot be used: the error
// names the [[exchange]] entry), or when scripts or packs were there and
// none started.
func (d *Daemon) Start() error {
	files, err := d.cfg.ResolveScripts()
	if err != nil {
		return err
	}
	d.ops.Lock()
	defer d.ops.Unlock()
	if err := d.startExchange(); err != nil {
		return err
	}
	d.started = time.Now()
	packsLoaded, packsFailed := d.syncPacks("start", false)
	failed := 0
	for _, f := range files {
		hash, _, _ := readHash(f)
		if err := d.load(f, hash); err != nil {
			failed++
		}
	}
	started := len(files) - failed
	d.log.Info("agentd started", "scripts", started, "failed", failed, "packs", packsLoaded, "packs_failed", packsFailed, "process", d.rt.ProcessIdentity())
	started, failed = started+packsLoaded, failed+packsFailed
	if failed > 0 {
		if started == 0 {
			return ErrNoScripts
		}
		d.log.Warn("running without the scripts that failed to load", "failed", failed)
	}
	if d.cfg.Agentd.HotReload {
		if err := d.startWatching(); err != nil {
			d.log.Error("hot reload is off: cannot watch files", "error", err)
		}
	}
	return nil
}

// load starts one script, logging a failure; ops is held.
func (d *Daemon) load(path string, hash [32]byte) error {
	sc, err := d.host.Load(path)
	if err != nil {
		d.scripts[path] = &script{hash: hash, tried: hash}
		attrs := []any{"error", err}
		var se *luabind.ScriptError
		if errors.As(err, &se) && se.Traceback != "" {
			attrs = append(attrs, "traceback", se.Traceback)
		}
		d.log.Error("script failed to load", attrs...)
		return err
	}
	d.scripts[path] = &script{sc: sc, hash: hash, tried: hash, mods: moduleHashes(sc)}
	d.log.Info("script started", "script", luabind.DisplayPath(path))
	return nil
}

// closing reports whether Close has begun.
func (d *Daemon) closing() bool {
	select {
	case <-d.quit:
		return true
	default:
		return false
	}
}

// ScheduleShutdown starts the orderly shutdown with the configured delay.
func (d *Daemon) ScheduleShutdown() { d.rt.ScheduleShutdown(-1) }

// Done is closed when the orderly shutdown has finished.
func (d *Daemon) Done() <-chan struct{} { return d.rt.Done() }

// Close stops everything now (bounded by ctx) and closes the log file.
func (d *Daemon) Close(ctx context.Context) error {
	d.quitOnce.Do(func() { close(d.quit) })
	d.stopWatching()
	err := d.rt.Shutdown(ctx)
	d.removeStatus()
	if n := d.stdout.droppedLines(); n > 0 {
		d.log.Warn("print output was lost: standard output could not be written", "lines", n)
	}
	if d.logf != nil {
		_ = d.logf.Close()
	}
	return err
}

// Check decodes nothing itself: given a decoded configuration, it resolves
// the scripts and compiles each, and loads the TLS files of the
// [[exchange]] entries, returning how many scripts compiled and every
// problem found.
func Check(cfg *config.Config) (int, error) {
	files, err := cfg.ResolveScripts()
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	if err := checkExchangeFiles(cfg, nil); err != nil {
		errs = append(errs, err)
	}
	rt := runtime.New(runtime.Options{Logger: logging.Discard()})
	host := luabind.NewHost(rt, luabind.Options{})
	ok := 0
	for _, f := range files {
		if err := host.Compile(f); err != nil {
			errs = append(errs, err)
			continue
		}
		ok++
	}
	return ok, errors.Join(errs...)
}
