package bench

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// sample is one measurement: a driver's done line, and the CPU time of
// the scenario's processes between its start and done lines.
type sample struct {
	f      fields
	ops    float64
	secs   float64
	cpu    time.Duration            // every process
	byRole map[string]time.Duration // each process, by its role
	load   float64
}

func (s sample) rate() float64 { return s.ops / s.secs }

func (s sample) cpuPerOp() float64 { return s.perOp(s.cpu) }

func (s sample) perOp(d time.Duration) float64 {
	if s.ops == 0 {
		return 0
	}
	return d.Seconds() / s.ops
}

// cpuSplit describes the CPU time per operation of each process.
func (s sample) cpuSplit() string {
	var parts []string
	for _, role := range slices.Sorted(maps.Keys(s.byRole)) {
		parts = append(parts, role+" "+formatDuration(s.perOp(s.byRole[role])))
	}
	return formatDuration(s.cpuPerOp()) + " CPU/op (" + strings.Join(parts, ", ") + ")"
}

// add records s in r: value, CPU time per operation (in all and per
// process), load.
func (r *Row) add(s sample, baseline bool, value float64) {
	cpu, by := &r.CPUPerOp, &r.CPUByProcess
	if baseline {
		r.BaselineValues = append(r.BaselineValues, value)
		cpu, by = &r.BaselineCPUPerOp, &r.BaselineCPUByProcess
	} else {
		r.Values = append(r.Values, value)
	}
	*cpu = append(*cpu, s.cpuPerOp())
	if *by == nil {
		*by = map[string][]float64{}
	}
	for role, d := range s.byRole {
		(*by)[role] = append((*by)[role], s.perOp(d))
	}
	r.Load = append(r.Load, s.load)
}

// measure waits for driver's start and done lines and takes the CPU time
// of procs between them.
func (b *bencher) measure(driver *process, procs ...*process) (sample, error) {
	if _, _, err := driver.waitResult(2*time.Minute, "start"); err != nil {
		return sample{}, err
	}
	c0, err := cpuOf(procs)
	if err != nil {
		return sample{}, err
	}
	f, _, err := driver.waitResult(b.opts.Time+2*time.Minute, "done")
	if err != nil {
		return sample{}, err
	}
	c1, err := cpuOf(procs)
	if err != nil {
		return sample{}, err
	}
	v, err := f.need("ops", "seconds")
	if err != nil {
		return sample{}, err
	}
	if v[0] <= 0 || v[1] <= 0 {
		return sample{}, fmt.Errorf("bench: %s measured nothing: %v", driver.name, f)
	}
	s := sample{f: f, ops: v[0], secs: v[1], byRole: map[string]time.Duration{}, load: loadAverage()}
	for i, p := range procs {
		s.cpu += c1[i] - c0[i]
		s.byRole[p.name] += c1[i] - c0[i]
	}
	return s, nil
}

func cpuOf(procs []*process) ([]time.Duration, error) {
	out := make([]time.Duration, len(procs))
	for i, p := range procs {
		c, err := p.cpu()
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

// alternate runs figure and baseline Rounds times each, alternating which
// goes first (ABBA...), so that a drift of the machine's speed touches
// both alike.
func (b *bencher) alternate(figure, baseline func(round int) error) error {
	for r := range b.opts.Rounds {
		first, second := figure, baseline
		if r%2 == 1 {
			first, second = baseline, figure
		}
		for _, f := range []func(int) error{first, second} {
			if err := f(r); err != nil {
				return err
			}
			b.stopAll()
		}
	}
	return nil
}

// lost returns a note if a report driver's done line says fewer reports
// arrived than were sent.
func lost(s sample) string {
	if sent, ok := s.f["sent"]; ok && sent != s.ops {
		return fmt.Sprintf("%.0f of %.0f reports delivered", s.ops, sent)
	}
	return ""
}

// local: one agentd, a Lua publisher and subs Lua subscribers; with a
// hub configured (the figure) and without any exchange (the baseline).
func (b *bencher) local(subs int, target float64) ([]Row, error) {
	row := Row{
		Scenario: b.scenario,
		Figure:   fmt.Sprintf("reports/s delivered in one process, 1 → %d, with a hub configured", subs),
		Unit:     "/s",
		Target:   "≥ " + format(target, "/s") + "; ratio ≈ 100 %",
		AtLeast:  target,
		Baseline: "no [[exchange]]",
	}
	var notes []string
	run := func(withHub bool) func(int) error {
		return func(int) error {
			c := agentConfig{
				scripts: map[string]string{"pub.lua": script("pub")},
				config:  map[string]map[string]any{"pub": {"subs": subs, "seconds": b.seconds(), "warmup": b.warmup(20)}},
			}
			for i := 1; i <= subs; i++ {
				c.scripts[fmt.Sprintf("sub%02d.lua", i)] = script("sub")
			}
			if withHub {
				c.listen = "127.0.0.1:0"
			}
			p, err := b.agentd("agentd", c)
			if err != nil {
				return err
			}
			s, err := b.measure(p, p)
			if err != nil {
				return err
			}
			if n := lost(s); n != "" {
				notes = append(notes, n)
			}
			row.add(s, !withHub, s.rate())
			b.progress("hub=%v %s, %s", withHub, format(s.rate(), "/s"), s.cpuSplit())
			return nil
		}
	}
	if err := b.alternate(run(true), run(false)); err != nil {
		return nil, err
	}
	row.Note = strings.Join(notes, "; ")
	return []Row{row}, nil
}

// topology is where a cross-process scenario's hub runs.
type topology int

const (
	// embedded: the publisher (or the callee) runs in the hub's process,
	// the subscriber (or the caller) in a client: two processes. The raw
	// baseline's publisher (or responder) embeds a NATS server the same
	// way (bench-peer -listen).
	embedded topology = iota
	// relay: a hub that runs no scripts, publisher and subscriber (caller
	// and callee) in two clients: three processes, every message crossing
	// two TCP connections. The raw baseline uses an agentd hub alike.
	relay
)

func (t topology) String() string {
	if t == embedded {
		return "2 processes: pub in the hub's"
	}
	return "3 processes: pub and sub clients of a relay hub"
}

// rawPeers starts the two peers of a raw baseline, first then second,
// each with its args: for relay, both connect to a new agentd hub that
// runs no scripts (returned as hub); for embedded, first embeds the NATS
// server (-listen) and second connects to it.
func (b *bencher) rawPeers(t topology, first string, firstArgs []string, second string, secondArgs []string) (p1, p2 *process, hub *process, err error) {
	if t == relay {
		h, url, _, err := b.hub("", agentConfig{})
		if err != nil {
			return nil, nil, nil, err
		}
		if p1, err = b.peer(first, append([]string{"-url", url}, firstArgs...)...); err != nil {
			return nil, nil, nil, err
		}
		if p2, err = b.peer(second, append([]string{"-url", url}, secondArgs...)...); err != nil {
			return nil, nil, nil, err
		}
		return p1, p2, h, nil
	}
	if p1, err = b.peer(first, append([]string{"-listen", "127.0.0.1:0"}, firstArgs...)...); err != nil {
		return nil, nil, nil, err
	}
	f, _, err := p1.waitResult(time.Minute, "listening")
	if err != nil {
		return nil, nil, nil, err
	}
	port, err := f.need("port")
	if err != nil {
		return nil, nil, nil, err
	}
	url := fmt.Sprintf("nats://127.0.0.1:%d", int(port[0]))
	if p2, err = b.peer(second, append([]string{"-url", url}, secondArgs...)...); err != nil {
		return nil, nil, nil, err
	}
	return p1, p2, nil, nil
}

// procs lists the processes that are not nil.
func procs(ps ...*process) []*process {
	var out []*process
	for _, p := range ps {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}

// reports: a Lua publisher and a Lua subscriber in two processes (t);
// the baseline: a nats.go publisher of the same msgpack content into a
// raw-sink (NATS → decode → Lua function) in the same topology.
func (b *bencher) reports(t topology) ([]Row, error) {
	row := Row{
		Scenario: b.scenario,
		Figure:   "Lua → Lua reports/s delivered across processes (" + t.String() + ")",
		Unit:     "/s",
		Baseline: "raw NATS → Lua",
	}
	if t == embedded {
		row.Target, row.AtLeast, row.MinRatio = "≥ 150.0 k/s and ≥ 50 % of raw", 150e3, 0.5
	}
	var notes []string
	pubConfig := map[string]map[string]any{"pub": {"subs": 1, "seconds": b.seconds(), "warmup": b.warmup(20)}}
	exchange := func(int) error {
		var hub, pub, sub *process
		var url string
		var err error
		if t == embedded {
			if hub, url, _, err = b.hub("", agentConfig{scripts: map[string]string{"pub.lua": script("pub")}, config: pubConfig}); err != nil {
				return err
			}
			pub = hub
		} else {
			if hub, url, _, err = b.hub("", agentConfig{}); err != nil {
				return err
			}
		}
		if sub, err = b.agentd("sub", agentConfig{connect: url, scripts: map[string]string{"sub.lua": script("sub")}}); err != nil {
			return err
		}
		if t == relay {
			if pub, err = b.agentd("pub", agentConfig{connect: url, scripts: map[string]string{"pub.lua": script("pub")}, config: pubConfig}); err != nil {
				return err
			}
		}
		s, err := b.measure(pub, procs(hub, sub, nilIf(pub, pub == hub))...)
		if err != nil {
			return err
		}
		if n := lost(s); n != "" {
			notes = append(notes, n)
		}
		row.add(s, false, s.rate())
		b.progress("exchange %s, %s", format(s.rate(), "/s"), s.cpuSplit())
		return nil
	}
	raw := func(int) error {
		pubArgs := []string{"-seconds", fmt.Sprint(b.seconds()), "-warmup", fmt.Sprint(b.warmup(20))}
		var pub, sink, hub *process
		var err error
		if t == embedded {
			pub, sink, _, err = b.rawPeers(t, "raw-pub", pubArgs, "raw-sink", nil)
		} else {
			sink, pub, hub, err = b.rawPeers(t, "raw-sink", nil, "raw-pub", pubArgs)
		}
		if err != nil {
			return err
		}
		s, err := b.measure(pub, procs(hub, sink, pub)...)
		if err != nil {
			return err
		}
		if n := lost(s); n != "" {
			notes = append(notes, "raw: "+n)
		}
		row.add(s, true, s.rate())
		b.progress("raw %s, %s", format(s.rate(), "/s"), s.cpuSplit())
		return nil
	}
	if err := b.alternate(exchange, raw); err != nil {
		return nil, err
	}
	row.Note = strings.Join(notes, "; ")
	return []Row{row}, nil
}

// nilIf returns nil if cond, else p.
func nilIf(p *process, cond bool) *process {
	if cond {
		return nil
	}
	return p
}

// requests: a Lua caller and a Lua echo service in two processes (t:
// embedded puts the echo service in the hub's process), inflight calls
// in flight; the baseline: nats.go requests to a nats.go responder
// (raw-req, raw-echo) in the same topology, the same payload (the
// msgpack of an integer) at the same concurrency. Latencies are measured
// inside the caller (agentd.time() around each self:call; time.Now()
// around each nats.go Request).
func (b *bencher) requests(inflight int, t topology) ([]Row, error) {
	where := "2 processes: echo in the hub's"
	if t == relay {
		where = "3 processes: caller and echo clients of a relay hub"
	}
	base := "raw NATS request/reply"
	var rows []Row
	var p50, p99, rate *Row
	if inflight == 1 {
		rows = []Row{{
			Scenario: b.scenario, Figure: "Lua self:call round trip across processes, 1 in flight (" + where + "): p50", Unit: "s", Baseline: base,
		}, {
			Scenario: b.scenario, Figure: "same: p99", Unit: "s", Baseline: base,
		}}
		p50, p99 = &rows[0], &rows[1]
		if t == embedded {
			p50.Target, p50.AtMost = "≤ 250.0 µs", 250e-6
			p99.Target, p99.AtMost = "≤ 1.0 ms", 1e-3
		}
	} else {
		rows = []Row{{
			Scenario: b.scenario, Figure: fmt.Sprintf("Lua requests/s across processes, %d in flight (coroutines; %s)", inflight, where), Unit: "/s",
			Baseline: base + fmt.Sprintf(", %d in flight", inflight),
		}}
		rate = &rows[0]
		if t == embedded {
			rate.Target, rate.AtLeast = "≥ 30.0 k/s", 30e3
		}
	}
	record := func(s sample, baseline bool) error {
		if rate != nil {
			rate.add(s, baseline, s.rate())
			return nil
		}
		v, err := s.f.need("p50", "p99")
		if err != nil {
			return err
		}
		p50.add(s, baseline, v[0])
		p99.add(s, baseline, v[1])
		return nil
	}
	describe := func(s sample) string {
		if rate != nil {
			return format(s.rate(), "/s")
		}
		return "p50 " + formatDuration(s.f["p50"]) + ", p99 " + formatDuration(s.f["p99"])
	}
	callerConfig := map[string]map[string]any{"caller": {"inflight": inflight, "seconds": b.seconds(), "warmup": b.warmup(500)}}
	exchange := func(int) error {
		var hub, echo *process
		var url string
		var err error
		if t == embedded {
			if hub, url, _, err = b.hub("", agentConfig{scripts: map[string]string{"echo.lua": script("echo")}}); err != nil {
				return err
			}
		} else {
			if hub, url, _, err = b.hub("", agentConfig{}); err != nil {
				return err
			}
			if echo, err = b.agentd("echo", agentConfig{connect: url, scripts: map[string]string{"echo.lua": script("echo")}}); err != nil {
				return err
			}
		}
		caller, err := b.agentd("caller", agentConfig{connect: url, scripts: map[string]string{"caller.lua": script("caller")}, config: callerConfig})
		if err != nil {
			return err
		}
		s, err := b.measure(caller, procs(hub, echo, caller)...)
		if err != nil {
			return err
		}
		b.progress("exchange %s, %s", describe(s), s.cpuSplit())
		return record(s, false)
	}
	raw := func(int) error {
		reqArgs := []string{"-seconds", fmt.Sprint(b.seconds()), "-inflight", fmt.Sprint(inflight), "-warmup", fmt.Sprint(b.warmup(500))}
		echo, req, hub, err := b.rawPeers(t, "raw-echo", nil, "raw-req", reqArgs)
		if err != nil {
			return err
		}
		s, err := b.measure(req, procs(hub, echo, req)...)
		if err != nil {
			return err
		}
		b.progress("raw %s, %s", describe(s), s.cpuSplit())
		return record(s, true)
	}
	if err := b.alternate(exchange, raw); err != nil {
		return nil, err
	}
	return rows, nil
}

// withdraw: a watcher in one client of a relay hub follows a service of
// another client, which is killed with SIGKILL; the time from the kill to
// the watcher's SERVICE_WITHDRAWN (agentd.time() in the watcher's
// callback), Repeat times, a new victim process each time.
func (b *bencher) withdraw() ([]Row, error) {
	row := Row{
		Scenario: b.scenario, Figure: "kill -9 of a process → SERVICE_WITHDRAWN in a watcher (another client)", Unit: "s",
		Target: "≤ 100.0 ms (every time)", AtMost: 0.1, Worst: true,
	}
	_, url, _, err := b.hub("", agentConfig{})
	if err != nil {
		return nil, err
	}
	watcher, err := b.agentd("watcher", agentConfig{connect: url, scripts: map[string]string{"watcher.lua": script("watcher")},
		config: map[string]map[string]any{"watcher": {"names": "victim"}}})
	if err != nil {
		return nil, err
	}
	for range b.opts.Repeat {
		victim, err := b.agentd("victim", agentConfig{connect: url, scripts: map[string]string{"victim.lua": script("victim")}})
		if err != nil {
			return nil, err
		}
		if _, _, err := watcher.waitResult(time.Minute, "all"); err != nil {
			return nil, err
		}
		killed := time.Now()
		victim.kill()
		f, _, err := watcher.waitResult(time.Minute, "none")
		if err != nil {
			return nil, err
		}
		v, err := f.need("t")
		if err != nil {
			return nil, err
		}
		d := v[0] - epoch(killed)
		row.Values = append(row.Values, d)
		row.Load = append(row.Load, loadAverage())
		b.progress("withdrawn %s after kill -9", formatDuration(d))
	}
	return []Row{row}, nil
}

// restart: a hub with five services, a client with five more, and a
// watcher client; the hub is stopped (SIGTERM) and started again on the
// same address; the time from its log line `exchange hub listening`
// (as the bench read it) to the watcher seeing all ten services again.
func (b *bencher) restart() ([]Row, error) {
	limit := b.opts.Retry + time.Second
	row := Row{
		Scenario: b.scenario, Figure: fmt.Sprintf("hub restarted → all 10 services visible again in a client (retry = %v)", b.opts.Retry), Unit: "s",
		Target: "≤ retry + 1 s = " + formatDuration(limit.Seconds()) + " (every time)", AtMost: limit.Seconds(), Worst: true,
	}
	hubServices := agentConfig{scripts: map[string]string{"services.lua": script("services")},
		config: map[string]map[string]any{"services": {"names": "h1,h2,h3,h4,h5"}}}
	hub, url, _, err := b.hub("", hubServices)
	if err != nil {
		return nil, err
	}
	addr := strings.TrimPrefix(url, "nats://")
	if _, err := b.agentd("services", agentConfig{connect: url, scripts: map[string]string{"services.lua": script("services")},
		config: map[string]map[string]any{"services": {"names": "c1,c2,c3,c4,c5"}}}); err != nil {
		return nil, err
	}
	watcher, err := b.agentd("watcher", agentConfig{connect: url, scripts: map[string]string{"watcher.lua": script("watcher")},
		config: map[string]map[string]any{"watcher": {"names": "h1,h2,h3,h4,h5,c1,c2,c3,c4,c5"}}})
	if err != nil {
		return nil, err
	}
	if _, _, err := watcher.waitResult(time.Minute, "all"); err != nil {
		return nil, err
	}
	for range b.opts.Repeat {
		hub.stop()
		if _, _, err := watcher.waitResult(time.Minute, "none"); err != nil {
			return nil, err
		}
		var up line
		if hub, _, up, err = b.hub(addr, hubServices); err != nil {
			return nil, err
		}
		f, _, err := watcher.waitResult(time.Minute, "all")
		if err != nil {
			return nil, err
		}
		v, err := f.need("t")
		if err != nil {
			return nil, err
		}
		d := v[0] - epoch(up.at)
		row.Values = append(row.Values, d)
		row.Load = append(row.Load, loadAverage())
		b.progress("all visible %s after the hub was up again", formatDuration(d))
	}
	return []Row{row}, nil
}

// epoch is t in seconds since the Unix epoch, as agentd.time() gives it.
func epoch(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
