package daemon

import (
	"io"
	"log/slog"
	"sync"
)

// printer is what scripts print to: the daemon's standard output. A write
// that fails (a closed pipe: `agentd run | head -1`; a full disk) loses
// that line and nothing else: the line is counted, the first failure of a
// run of failures is logged as a warning, and the next line is tried
// again. Close logs how many lines were lost.
type printer struct {
	w   io.Writer
	log *slog.Logger

	mu      sync.Mutex
	failing bool   // the last write failed
	dropped uint64 // lines lost
}

// Write writes one line (luabind writes each print call as one Write).
// It never fails: a script's print does not depend on who reads.
func (p *printer) Write(line []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := p.w.Write(line); err != nil {
		p.dropped++
		if !p.failing {
			p.failing = true
			p.log.Warn("standard output cannot be written: what scripts print is dropped until it can", "error", err.Error())
		}
		return len(line), nil
	}
	if p.failing {
		p.failing = false
		p.log.Info("standard output can be written again", "dropped", p.dropped)
	}
	return len(line), nil
}

func (p *printer) droppedLines() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dropped
}
