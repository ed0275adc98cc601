package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"time"
)

// ProfileEnv names the environment variable that makes an agentd process
// (run, or bench-peer) write a Go CPU profile to the file it names when it
// exits in order. Options.ProfileDir sets it for every child.
const ProfileEnv = "AGENTD_CPUPROFILE"

// Options of Run.
type Options struct {
	Binary     string        // the agentd executable the children run
	Scenarios  []string      // names or name prefixes (before a '-'); none: every scenario
	Time       time.Duration // each throughput or latency measurement
	Rounds     int           // each measurement and its baseline, alternately, this many times
	Repeat     int           // kills and hub restarts
	Retry      time.Duration // the clients' retry
	ProfileDir string        // if set, every child writes a CPU profile there
	Progress   io.Writer     // a line per measurement, if not nil
}

func (o *Options) defaults() {
	if o.Time <= 0 {
		o.Time = 3 * time.Second
	}
	if o.Rounds <= 0 {
		o.Rounds = 3
	}
	if o.Repeat <= 0 {
		o.Repeat = 5
	}
	if o.Retry <= 0 {
		o.Retry = time.Second
	}
}

// A Scenario is one of the bench's scenarios.
type Scenario struct {
	Name  string
	About string
	run   func(b *bencher) ([]Row, error)
}

// Scenarios lists every scenario, in the order Run runs them.
func Scenarios() []Scenario {
	return []Scenario{
		{"local-1", "Lua publisher → 1 Lua subscriber, one process; with a hub configured and without", func(b *bencher) ([]Row, error) { return b.local(1, 400e3) }},
		{"local-10", "Lua publisher → 10 Lua subscribers, one process; with a hub configured and without", func(b *bencher) ([]Row, error) { return b.local(10, 600e3) }},
		{"reports", "Lua → Lua reports, publisher in the hub's process, subscriber in a client; raw NATS → Lua alternately", func(b *bencher) ([]Row, error) { return b.reports(embedded) }},
		{"reports-relay", "the same with a hub that runs no scripts and two clients", func(b *bencher) ([]Row, error) { return b.reports(relay) }},
		{"request-1", "Lua request round trip, 1 in flight, echo in the hub's process, caller in a client; raw NATS request/reply alternately", func(b *bencher) ([]Row, error) { return b.requests(1, embedded) }},
		{"request-1-relay", "the same with a hub that runs no scripts and two clients", func(b *bencher) ([]Row, error) { return b.requests(1, relay) }},
		{"request-64", "Lua requests, 64 in flight (coroutines), echo in the hub's process; raw NATS at the same concurrency alternately", func(b *bencher) ([]Row, error) { return b.requests(64, embedded) }},
		{"request-64-relay", "the same with a hub that runs no scripts and two clients", func(b *bencher) ([]Row, error) { return b.requests(64, relay) }},
		{"withdraw", "kill -9 of a process → a watcher's SERVICE_WITHDRAWN", (*bencher).withdraw},
		{"restart", "hub restart → every service visible again in a client", (*bencher).restart},
	}
}

// selected returns the scenarios names choose, or an error naming an
// unknown one.
func selected(names []string) ([]Scenario, error) {
	all := Scenarios()
	if len(names) == 0 {
		return all, nil
	}
	var out []Scenario
	for _, s := range all {
		for _, n := range names {
			if s.Name == n || strings.HasPrefix(s.Name, n+"-") {
				out = append(out, s)
				break
			}
		}
	}
	for _, n := range names {
		found := false
		for _, s := range all {
			if s.Name == n || strings.HasPrefix(s.Name, n+"-") {
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("bench: unknown scenario %q", n)
		}
	}
	return out, nil
}

// Run runs the scenarios and returns their rows, in order.
func Run(ctx context.Context, opts Options) (*Report, error) {
	opts.defaults()
	scens, err := selected(opts.Scenarios)
	if err != nil {
		return nil, err
	}
	if opts.Binary == "" {
		return nil, errors.New("bench: no agentd binary")
	}
	if opts.ProfileDir != "" {
		if err := os.MkdirAll(opts.ProfileDir, 0o755); err != nil {
			return nil, err
		}
		if opts.ProfileDir, err = filepath.Abs(opts.ProfileDir); err != nil {
			return nil, err
		}
	}
	tmp, err := os.MkdirTemp("", "agentd-bench")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	rep := &Report{Started: time.Now(), Machine: machine()}
	for _, s := range scens {
		b := &bencher{ctx: ctx, opts: opts, tmp: tmp, scenario: s.Name}
		rows, err := s.run(b)
		if err != nil {
			err = fmt.Errorf("%s: %w\nthe last lines of every process of the scenario:\n%s", s.Name, err, b.tails())
		}
		b.stopAll()
		if err != nil {
			return rep, err
		}
		for i := range rows {
			rows[i].finish()
		}
		rep.Rows = append(rep.Rows, rows...)
		if err := ctx.Err(); err != nil {
			return rep, err
		}
	}
	rep.Finished = time.Now()
	return rep, nil
}

// machine describes this machine: cores, CPU model, Go version.
func machine() string {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for l := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%d cores (%s), %s %s/%s", goruntime.NumCPU(), model, goruntime.Version(), goruntime.GOOS, goruntime.GOARCH)
}

// loadAverage is the 1-minute load average.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// bencher runs one scenario: it starts its processes and stops them.
type bencher struct {
	ctx      context.Context
	opts     Options
	tmp      string
	scenario string
	seq      int
	procs    []*process
}

func (b *bencher) progress(format string, args ...any) {
	if b.opts.Progress != nil {
		fmt.Fprintf(b.opts.Progress, "bench: %s: %s (load %.2f)\n", b.scenario, fmt.Sprintf(format, args...), loadAverage())
	}
}

// start starts a child named role: args after the binary.
func (b *bencher) start(role string, dir string, args ...string) (*process, error) {
	if err := b.ctx.Err(); err != nil {
		return nil, err
	}
	b.seq++
	profile := ""
	if b.opts.ProfileDir != "" {
		profile = filepath.Join(b.opts.ProfileDir, fmt.Sprintf("%s-%02d-%s.pprof", b.scenario, b.seq, role))
	}
	p, err := startProcess(b.ctx, role, b.opts.Binary, dir, profile, args...)
	if err != nil {
		return nil, err
	}
	b.procs = append(b.procs, p)
	return p, nil
}

// agentd starts an agentd child with configuration c.
func (b *bencher) agentd(role string, c agentConfig) (*process, error) {
	dir := filepath.Join(b.tmp, fmt.Sprintf("%s-%02d-%s", b.scenario, b.seq+1, role))
	if err := c.write(dir, b.opts.Retry); err != nil {
		return nil, err
	}
	return b.start(role, dir, "run", "-c", filepath.Join(dir, "config.toml"))
}

// hub starts an agentd with a server endpoint on addr (127.0.0.1:0 if
// empty) and returns it, its URL, and the line saying it listens.
func (b *bencher) hub(addr string, c agentConfig) (*process, string, line, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	c.listen = addr
	p, err := b.agentd("hub", c)
	if err != nil {
		return nil, "", line{}, err
	}
	l, err := p.waitLog(time.Minute, "exchange hub listening")
	if err != nil {
		return nil, "", line{}, err
	}
	a, err := hubAddr(l)
	if err != nil {
		return nil, "", line{}, err
	}
	return p, "nats://" + a, l, nil
}

// peer starts a raw NATS peer (bench-peer ROLE args...).
func (b *bencher) peer(role string, args ...string) (*process, error) {
	return b.start(role, b.tmp, append([]string{"bench-peer", role}, args...)...)
}

// tails is the last lines of every child still known.
func (b *bencher) tails() string {
	var s strings.Builder
	for _, p := range b.procs {
		s.WriteString(p.tail())
	}
	return s.String()
}

// stopAll stops every child still running, in order.
func (b *bencher) stopAll() {
	for _, p := range b.procs {
		p.terminate()
	}
	for _, p := range b.procs {
		p.awaitExit()
	}
	b.procs = nil
}

// seconds is the measurement time as agentd.config and -seconds take it.
func (b *bencher) seconds() float64 { return b.opts.Time.Seconds() }

// warmup scales the work done before a measurement (n for a measurement
// of 3 s or more) to the measurement's time, so that a short run stays
// short.
func (b *bencher) warmup(n int) int {
	return max(1, min(n, int(float64(n)*b.seconds()/3)))
}
