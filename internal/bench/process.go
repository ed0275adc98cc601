package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A process is one child of the bench: an agentd run on a generated
// configuration, or a raw NATS peer (the hidden bench-peer command).
// Two goroutines read its standard output and error into one list of
// lines, which the bench's goroutine waits on.
type process struct {
	ctx  context.Context
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has been waited for

	mu       sync.Mutex
	lines    []line
	changed  chan struct{} // closed and replaced when a line arrives or the process ends
	next     int           // the next line wait looks at
	exited   bool
	termSent bool
}

// line is one line a process wrote, with the time the bench read it.
type line struct {
	stderr bool
	text   string
	at     time.Time
}

// startProcess starts bin with args in dir; profile, if not empty, is
// the CPU profile it writes when it exits in order. Waiting for its
// lines ends when ctx does.
func startProcess(ctx context.Context, name, bin, dir, profile string, args ...string) (*process, error) {
	p := &process{ctx: ctx, name: name, done: make(chan struct{}), changed: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = dir
	p.cmd.Env = os.Environ()
	if profile != "" {
		p.cmd.Env = append(p.cmd.Env, ProfileEnv+"="+profile)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: starting %s: %w", name, err)
	}
	var readers sync.WaitGroup
	readers.Add(2)
	go p.read(stdout, false, &readers)
	go p.read(stderr, true, &readers)
	go func() {
		readers.Wait()
		_ = p.cmd.Wait()
		p.mu.Lock()
		p.exited = true
		close(p.changed)
		p.changed = make(chan struct{})
		p.mu.Unlock()
		close(p.done)
	}()
	return p, nil
}

func (p *process) read(r io.Reader, stderr bool, wg *sync.WaitGroup) {
	defer wg.Done()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		p.mu.Lock()
		p.lines = append(p.lines, line{stderr: stderr, text: sc.Text(), at: time.Now()})
		close(p.changed)
		p.changed = make(chan struct{})
		p.mu.Unlock()
	}
	_, _ = io.Copy(io.Discard, r)
}

// errTimeout: the line waited for did not come in time.
var errTimeout = errors.New("timed out")

// wait returns the first line after the ones already looked at for
// which match is true, within timeout. Lines passed over are not
// looked at again.
func (p *process) wait(timeout time.Duration, match func(line) bool) (line, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		for p.next < len(p.lines) {
			l := p.lines[p.next]
			p.next++
			if match(l) {
				p.mu.Unlock()
				return l, nil
			}
		}
		exited, changed := p.exited, p.changed
		p.mu.Unlock()
		if exited {
			return line{}, fmt.Errorf("bench: %s exited (%s)\n%s", p.name, p.cmd.ProcessState, p.tail())
		}
		select {
		case <-changed:
		case <-deadline.C:
			return line{}, fmt.Errorf("bench: %s: %w after %v\n%s", p.name, errTimeout, timeout, p.tail())
		case <-p.ctx.Done():
			return line{}, p.ctx.Err()
		}
	}
}

// waitLog waits for a log line (standard error) containing s.
func (p *process) waitLog(timeout time.Duration, s string) (line, error) {
	return p.wait(timeout, func(l line) bool { return l.stderr && strings.Contains(l.text, s) })
}

// waitResult waits for a line "BENCH kind key=value ..." on standard
// output and returns its fields.
func (p *process) waitResult(timeout time.Duration, kind string) (fields, line, error) {
	prefix := "BENCH " + kind
	l, err := p.wait(timeout, func(l line) bool {
		return !l.stderr && (l.text == prefix || strings.HasPrefix(l.text, prefix+" "))
	})
	if err != nil {
		return nil, l, err
	}
	f := fields{}
	for _, kv := range strings.Fields(strings.TrimPrefix(l.text, prefix)) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, l, fmt.Errorf("bench: %s: malformed result %q", p.name, l.text)
		}
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, l, fmt.Errorf("bench: %s: malformed result %q: %v", p.name, l.text, err)
		}
		f[k] = n
	}
	return f, l, nil
}

// fields are the values of a result line.
type fields map[string]float64

// need returns the values of keys, or an error naming the first missing.
func (f fields) need(keys ...string) ([]float64, error) {
	out := make([]float64, len(keys))
	for i, k := range keys {
		v, ok := f[k]
		if !ok {
			return nil, fmt.Errorf("bench: result lacks %s", k)
		}
		out[i] = v
	}
	return out, nil
}

// tail is the last lines the process wrote, for error messages.
func (p *process) tail() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	from := max(0, len(p.lines)-30)
	var b strings.Builder
	for _, l := range p.lines[from:] {
		b.WriteString("  " + p.name + ": " + l.text + "\n")
	}
	return b.String()
}

// cpu is the process's CPU time so far (user and system), read from
// /proc/PID/stat, where it is counted in clock ticks of 10 ms.
func (p *process) cpu() (time.Duration, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p.cmd.Process.Pid), "stat"))
	if err != nil {
		return 0, fmt.Errorf("bench: CPU time of %s: %w", p.name, err)
	}
	return parseStatCPU(string(b))
}

// userHZ is the unit of the times in /proc/PID/stat (USER_HZ, 100 on
// every Linux architecture Go runs on).
const userHZ = 100

// parseStatCPU reads utime and stime (fields 14 and 15) of a
// /proc/PID/stat line; the command name (field 2) may hold spaces and
// parentheses, so the fields are counted after its last ')'.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("bench: malformed /proc stat line")
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0, errors.New("bench: short /proc stat line")
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("bench: /proc stat line: %v", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// stop ends the process in order (SIGTERM, which lets it write its CPU
// profile), or kills it after a while.
func (p *process) stop() {
	p.terminate()
	p.awaitExit()
}

// terminate sends SIGTERM, once, to a process still running.
func (p *process) terminate() {
	select {
	case <-p.done:
		return
	default:
	}
	p.mu.Lock()
	sent := p.termSent
	p.termSent = true
	p.mu.Unlock()
	if !sent {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
}

// awaitExit waits for the process to exit, and kills it if it has not
// within 15 s.
func (p *process) awaitExit() {
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// kill kills the process at once (SIGKILL) and returns when it is gone.
func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}
