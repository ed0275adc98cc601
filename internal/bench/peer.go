package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agentd/agentd/internal/daemon"
	"github.com/agentd/agentd/internal/wire"
	"github.com/agentd/agentd/luabind"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// The raw NATS peers: what the exchange's figures are compared with, run
// by the hidden `agentd bench-peer ROLE` command through the same hub.
//
//	raw-sink  subscribes to rawSubject (ChanSubscribe), decodes each
//	          message with internal/wire and calls a Lua function with the
//	          subject and the content as a table (luabind.Handler); a
//	          message with a reply subject is an ack request: it is
//	          answered with the count handled so far
//	raw-pub   publishes the msgpack encoding of the Lua publisher's table,
//	          in batches of 1000, each followed by an ack request, as
//	          lua/pub.lua does
//	raw-echo  answers each request on echoSubject with its decoded and
//	          re-encoded content, on one goroutine
//	raw-req   calls raw-echo with `inflight` requests in flight, as
//	          lua/caller.lua does
//
// Each prints the same BENCH lines as the Lua drivers, and runs with the
// garbage collector target agentd run sets (unless GOGC is set).

const (
	rawSubject  = "bench.raw"
	echoSubject = "bench.echo"
	batch       = 1000
)

// embedServer starts a NATS server on addr with the options of an agentd hub
// that matter for speed (exchange/hub.go): ping interval, payload limit.
func embedServer(addr string) (*server.Server, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil, err
	}
	if p == 0 {
		p = -1 // nats-server: a port the system picks
	}
	ns, err := server.NewServer(&server.Options{Host: host, Port: p, NoSigs: true, NoLog: true,
		PingInterval: time.Second, MaxPingsOut: 2, MaxPayload: 1 << 20})
	if err != nil {
		return nil, err
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("the embedded NATS server did not start")
	}
	return ns, nil
}

// rawHandler is the Lua function of raw-sink: the same work as the
// callback of lua/sub.lua.
const rawHandler = `
local got = 0
return function(subject, content) got = got + 1 end
`

// Peer runs the bench-peer command: `ROLE [-url URL | -listen ADDR]
// [-seconds S] [-inflight N] [-warmup N]`. With -listen, the peer embeds
// the NATS server (as an agentd hub with scripts does) and prints
// `BENCH listening port=N`. It returns when ctx ends (the bench stops it), or on
// an error.
func Peer(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("bench-peer: want a role: raw-sink, raw-pub, raw-echo or raw-req")
	}
	role := args[0]
	fs := flag.NewFlagSet("agentd bench-peer "+role, flag.ContinueOnError)
	url := fs.String("url", "", "NATS URL of the hub")
	seconds := fs.Float64("seconds", 3, "how long to measure")
	inflight := fs.Int("inflight", 1, "requests in flight (raw-req)")
	warmup := fs.Int("warmup", 0, "batches (raw-pub) or requests (raw-req) before the measurement")
	listen := fs.String("listen", "", "embed a NATS server listening on this address, as an agentd hub does, and join it in-process")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(daemon.GCPercent) // as agentd run does
	}
	opts := []nats.Option{nats.Name("agentd-bench " + role), nats.MaxReconnects(0)}
	if *listen != "" {
		ns, err := embedServer(*listen)
		if err != nil {
			return fmt.Errorf("bench-peer %s: %w", role, err)
		}
		defer ns.WaitForShutdown()
		defer ns.Shutdown()
		opts = append(opts, nats.InProcessServer(ns))
		addr := ns.Addr().(*net.TCPAddr)
		fmt.Fprintf(stdout, "BENCH listening port=%d\n", addr.Port)
	}
	nc, err := nats.Connect(*url, opts...)
	if err != nil {
		return fmt.Errorf("bench-peer %s: %w", role, err)
	}
	defer nc.Close()
	d := time.Duration(*seconds * float64(time.Second))
	switch role {
	case "raw-sink":
		return rawSink(ctx, nc, stdout)
	case "raw-pub":
		err = rawPub(nc, d, *warmup, stdout)
	case "raw-echo":
		return rawEcho(ctx, nc, stdout)
	case "raw-req":
		err = rawReq(nc, d, *inflight, *warmup, stdout)
	default:
		return fmt.Errorf("bench-peer: unknown role %q", role)
	}
	if err != nil {
		return err
	}
	// a driver that is done waits to be stopped, as agentd does, so that
	// the bench's SIGTERM finds it (and its CPU profile is written whole)
	<-ctx.Done()
	return nil
}

func rawSink(ctx context.Context, nc *nats.Conn, stdout io.Writer) error {
	h, err := luabind.NewHandler(rawHandler)
	if err != nil {
		return err
	}
	defer h.Close()
	ch := make(chan *nats.Msg, 1<<16)
	sub, err := nc.ChanSubscribe(rawSubject, ch)
	if err != nil {
		return err
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := nc.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "BENCH ready")
	var got int64
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-ch:
			if m.Reply != "" {
				if err := m.Respond(strconv.AppendInt(nil, got, 10)); err != nil {
					return err
				}
				continue
			}
			v, err := wire.Decode(m.Data)
			if err != nil {
				return err
			}
			if _, err := h.Call(m.Subject, v); err != nil {
				return err
			}
			got++
		}
	}
}

// ack asks the sink for its count, which it gives once it has handled
// every message published before.
func ack(nc *nats.Conn, timeout time.Duration) (int64, error) {
	m, err := nc.Request(rawSubject, nil, timeout)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(string(m.Data), 10, 64)
}

// waitFor sends requests to subject until one is answered (the other
// side has subscribed), for up to a minute.
func waitFor(nc *nats.Conn, subject string) error {
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := nc.Request(subject, nil, 100*time.Millisecond)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("bench-peer: nobody answers on %s: %w", subject, err)
		}
	}
}

func rawPub(nc *nats.Conn, d time.Duration, warmup int, stdout io.Writer) error {
	if err := waitFor(nc, rawSubject); err != nil {
		return err
	}
	var buf []byte
	seq := int64(0)
	burst := func() error {
		for range batch {
			seq++
			var err error
			buf, err = wire.AppendValue(buf[:0], map[string]any{"seq": seq, "name": "sensor", "ok": true, "value": 1.5, "count": seq})
			if err != nil {
				return err
			}
			if err := nc.Publish(rawSubject, buf); err != nil {
				return err
			}
		}
		return nil
	}
	for range warmup {
		if err := burst(); err != nil {
			return err
		}
		if _, err := ack(nc, time.Minute); err != nil {
			return err
		}
	}
	base, err := ack(nc, time.Minute)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "BENCH start")
	t0 := time.Now()
	var got int64
	var t time.Duration
	for {
		if err := burst(); err != nil {
			return err
		}
		if got, err = ack(nc, time.Minute); err != nil {
			return err
		}
		if t = time.Since(t0); t >= d {
			break
		}
	}
	fmt.Fprintf(stdout, "BENCH done ops=%d sent=%d seconds=%.6f\n", got-base, seq-int64(warmup)*batch, t.Seconds())
	return nil
}

func rawEcho(ctx context.Context, nc *nats.Conn, stdout io.Writer) error {
	ch := make(chan *nats.Msg, 1<<16)
	sub, err := nc.ChanSubscribe(echoSubject, ch)
	if err != nil {
		return err
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := nc.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "BENCH ready")
	var buf []byte
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-ch:
			var v any
			if len(m.Data) > 0 {
				if v, err = wire.Decode(m.Data); err != nil {
					return err
				}
			}
			if buf, err = wire.AppendValue(buf[:0], v); err != nil {
				return err
			}
			if err := m.Respond(buf); err != nil {
				return err
			}
		}
	}
}

func rawReq(nc *nats.Conn, d time.Duration, inflight, warmup int, stdout io.Writer) error {
	if err := waitFor(nc, echoSubject); err != nil {
		return err
	}
	call := func(i int64) error {
		b, err := wire.Encode(i)
		if err != nil {
			return err
		}
		_, err = nc.Request(echoSubject, b, time.Minute)
		return err
	}
	for i := range int64(warmup) {
		if err := call(i); err != nil {
			return err
		}
	}
	if inflight <= 1 {
		var lat []time.Duration
		fmt.Fprintln(stdout, "BENCH start")
		t0 := time.Now()
		s := t0
		var e time.Time
		for n := int64(0); ; n++ {
			if err := call(n); err != nil {
				return err
			}
			e = time.Now()
			lat = append(lat, e.Sub(s))
			s = e
			if e.Sub(t0) >= d {
				break
			}
		}
		slices.Sort(lat)
		fmt.Fprintf(stdout, "BENCH done ops=%d seconds=%.6f p50=%.9f p99=%.9f max=%.9f\n", len(lat), e.Sub(t0).Seconds(),
			rank(lat, 0.5).Seconds(), rank(lat, 0.99).Seconds(), lat[len(lat)-1].Seconds())
		return nil
	}
	var n atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, inflight)
	fmt.Fprintln(stdout, "BENCH start")
	t0 := time.Now()
	deadline := t0.Add(d)
	for range inflight {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				if err := call(n.Load()); err != nil {
					errs <- err
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	took := time.Since(t0)
	select {
	case err := <-errs:
		return err
	default:
	}
	fmt.Fprintf(stdout, "BENCH done ops=%d seconds=%.6f\n", n.Load(), took.Seconds())
	return nil
}

// rank is the nearest-rank percentile q of sorted values, as
// lua/caller.lua computes it.
func rank[T any](sorted []T, q float64) T {
	i := int(math.Ceil(float64(len(sorted))*q)) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
