package exchange

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/agentd/agentd/internal/wire"
)

// Protocol version. A peer with another major version is refused; minor
// versions only add optional fields, which readers ignore.
const (
	ProtocolMajor = 1
	ProtocolMinor = 1
)

// Subjects (see spec/exchange.md). g is the group token (groupToken).
func helloSubject(g string) string { return "agentd.hello." + g }
func allSubject(g string) string   { return "agentd." + strconv.Itoa(ProtocolMajor) + "." + g + ".all" }
func toSubject(g, inc string) string {
	return "agentd." + strconv.Itoa(ProtocolMajor) + "." + g + ".to." + inc
}
func groupToken(group string) string        { return map[bool]string{true: "_", false: group}[group == ""] }
func clientName(inc, g, proc string) string { return "agentd/" + inc + "/" + g + "/" + proc }

// Message kinds.
const (
	kHello     = "hello"  // agentd.hello.G: a process (re)joins the group
	kRefuse    = "refuse" // agentd.hello.G: another major version was heard (informational)
	kAvailable = "avail"  // all: a service became visible
	kWithdrawn = "wdrawn" // all: a service is no longer visible
	kJoin      = "join"   // all: a service joined a group
	kLeave     = "leave"  // all: a service left a group
	kHeartbeat = "hb"     // all: the sender is alive
	kBye       = "bye"    // all: the sender leaves in order
	kGone      = "gone"   // all, from a hub: a process's connection is lost
	kSnapshot  = "snap"   // to: every service the sender has, for the receiver
	kSync      = "sync"   // to: resend snapshot and subscriptions; unless keep, the sender lost messages: fail pending requests
	kSubs      = "subs"   // to: every subscription the sender has to the receiver's services
	kSubscribe = "sub"    // to: a subscription to one of the receiver's services
	kUnsub     = "unsub"  // to: a subscription withdrawn
	kReport    = "rep"    // to: a report for one subscription
	kRequest   = "req"    // to: a request
	kResponse  = "res"    // to: the result of a request
	kFailure   = "fail"   // to: the failure of a request
	kCancel    = "cancel" // to: the caller of a request stopped waiting
)

// svcInfo describes one service in avail and snap messages.
type svcInfo struct {
	ID       string // agent identity
	Name     string
	Audience string
	Groups   []string
}

// subInfo is one subscription: subscriber Sub to publisher Pub with Pattern.
type subInfo struct {
	Pub, Sub, Pattern string
}

// message is one protocol message. Only the fields of its kind are set.
type message struct {
	Kind string
	Inc  string // sender incarnation
	Sess uint64 // sender session (one per connection of an endpoint)
	Seq  uint64 // per (sender session, stream); 0 on hello
	To   string // directed messages: the receiver's incarnation

	// hello
	Major, Minor int64
	Proc         string // sender process identity ("host:pid")
	Version      string // sender's agentd version
	Hub          bool   // the sender is a hub (server endpoint)

	Svcs  []svcInfo // avail (one), snap (all)
	Subs  []subInfo // subs
	ID    string    // wdrawn, join, leave: a service; req, res, fail: a conversation; gone: an incarnation
	Group string    // join, leave

	Pub, Sub, Pattern string // sub, unsub, rep
	Subject           string // rep
	Time              int64  // rep: publish time, Unix nanoseconds
	Content           any    // rep: content; res: result

	From, Target, Method string // req: sender and target service identities
	Args                 []any  // req

	Last map[string]uint64 // hb: the last directed sequence number sent to each peer, by incarnation

	Code                         int64  // fail
	Description, Origin, Details string // fail; gone and sync: Details says why
	Keep                         bool   // sync: nothing the receiver sent was lost; it keeps its requests and subscriptions
}

// encode appends m's encoding to dst: a map whose header is always the
// map 16 form (3 bytes), so that it can be written before its entries are
// counted.
func (m *message) encode(dst []byte) ([]byte, error) {
	start := len(dst)
	dst = append(dst, 0xde, 0, 0)
	n := 0
	str := func(k, v string) {
		if v != "" {
			dst = wire.AppendString(wire.AppendString(dst, k), v)
			n++
		}
	}
	num := func(k string, v int64) {
		if v != 0 {
			dst = wire.AppendInt(wire.AppendString(dst, k), v)
			n++
		}
	}
	unum := func(k string, v uint64) {
		if v != 0 {
			dst = wire.AppendUint(wire.AppendString(dst, k), v)
			n++
		}
	}
	str("k", m.Kind)
	str("i", m.Inc)
	unum("s", m.Sess)
	unum("n", m.Seq)
	str("to", m.To)
	num("maj", m.Major)
	num("min", m.Minor)
	str("proc", m.Proc)
	str("ver", m.Version)
	if m.Hub {
		dst = wire.AppendBool(wire.AppendString(dst, "hub"), true)
		n++
	}
	if m.Svcs != nil {
		dst = wire.AppendArrayHeader(wire.AppendString(dst, "svcs"), len(m.Svcs))
		for _, s := range m.Svcs {
			dst = wire.AppendArrayHeader(dst, 4)
			dst = wire.AppendString(dst, s.ID)
			dst = wire.AppendString(dst, s.Name)
			dst = wire.AppendString(dst, s.Audience)
			dst = wire.AppendArrayHeader(dst, len(s.Groups))
			for _, g := range s.Groups {
				dst = wire.AppendString(dst, g)
			}
		}
		n++
	}
	if m.Subs != nil {
		dst = wire.AppendArrayHeader(wire.AppendString(dst, "subs"), len(m.Subs))
		for _, s := range m.Subs {
			dst = wire.AppendArrayHeader(dst, 3)
			dst = wire.AppendString(dst, s.Pub)
			dst = wire.AppendString(dst, s.Sub)
			dst = wire.AppendString(dst, s.Pattern)
		}
		n++
	}
	if len(m.Last) > 0 {
		dst = wire.AppendMapHeader(wire.AppendString(dst, "last"), len(m.Last))
		for _, inc := range sortedKeys(m.Last) {
			dst = wire.AppendUint(wire.AppendString(dst, inc), m.Last[inc])
		}
		n++
	}
	str("id", m.ID)
	str("grp", m.Group)
	str("pub", m.Pub)
	str("sub", m.Sub)
	str("pat", m.Pattern)
	str("subj", m.Subject)
	num("t", m.Time)
	var err error
	switch m.Kind {
	case kReport, kResponse:
		dst, err = wire.AppendValue(wire.AppendString(dst, "c"), m.Content)
		n++
	case kRequest:
		dst, err = wire.AppendValue(wire.AppendString(dst, "a"), m.Args)
		n++
	}
	if err != nil {
		return dst[:start], err
	}
	str("from", m.From)
	str("tgt", m.Target)
	str("m", m.Method)
	num("code", m.Code)
	str("desc", m.Description)
	str("orig", m.Origin)
	str("det", m.Details)
	if m.Keep {
		dst = wire.AppendBool(wire.AppendString(dst, "keep"), true)
		n++
	}
	dst[start+1], dst[start+2] = byte(n>>8), byte(n)
	return dst, nil
}

// Decoding errors are counted and the message dropped; they never stop a reader.
var errMalformed = errors.New("malformed message")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errMalformed, fmt.Sprintf(format, args...))
}

// decode reads one message from b, which it does not keep.
func decode(b []byte) (*message, error) {
	m := &message{}
	if err := m.decode(wire.NewReader(b)); err != nil {
		return nil, err
	}
	return m, nil
}

// decode fills m (which must be zero) from r. With an aliasing reader its
// strings share r's buffer, which must then never change.
func (m *message) decode(r *wire.Reader) error {
	n, err := r.ReadMapLen()
	if err != nil {
		return malformed("not a map: %v", err)
	}
	for range n {
		k, err := r.ReadString()
		if err != nil {
			return malformed("key: %v", err)
		}
		if err := m.field(r, k); err != nil {
			return malformed("%s: %v", k, err)
		}
	}
	if r.Remaining() != 0 {
		return malformed("%d bytes after the message", r.Remaining())
	}
	if m.Kind == "" || m.Inc == "" {
		return malformed("no kind or no sender")
	}
	return nil
}

func (m *message) field(r *wire.Reader, k string) error {
	var err error
	switch k {
	case "k":
		m.Kind, err = r.ReadString()
	case "i":
		m.Inc, err = r.ReadString()
	case "s":
		m.Sess, err = r.ReadUint()
	case "n":
		m.Seq, err = r.ReadUint()
	case "to":
		m.To, err = r.ReadString()
	case "maj":
		m.Major, err = r.ReadInt()
	case "min":
		m.Minor, err = r.ReadInt()
	case "proc":
		m.Proc, err = r.ReadString()
	case "ver":
		m.Version, err = r.ReadString()
	case "hub":
		m.Hub, err = r.ReadBool()
	case "svcs":
		m.Svcs, err = readSvcs(r)
	case "subs":
		m.Subs, err = readSubs(r)
	case "last":
		m.Last, err = readLast(r)
	case "id":
		m.ID, err = r.ReadString()
	case "grp":
		m.Group, err = r.ReadString()
	case "pub":
		m.Pub, err = r.ReadString()
	case "sub":
		m.Sub, err = r.ReadString()
	case "pat":
		m.Pattern, err = r.ReadString()
	case "subj":
		m.Subject, err = r.ReadString()
	case "t":
		m.Time, err = r.ReadInt()
	case "c":
		m.Content, err = r.ReadValue(wire.MaxDepth)
	case "a":
		var v any
		if v, err = r.ReadValue(wire.MaxDepth); err == nil {
			args, ok := v.([]any)
			if !ok && v != nil {
				return errors.New("args must be an array")
			}
			m.Args = args
		}
	case "from":
		m.From, err = r.ReadString()
	case "tgt":
		m.Target, err = r.ReadString()
	case "m":
		m.Method, err = r.ReadString()
	case "code":
		m.Code, err = r.ReadInt()
	case "desc":
		m.Description, err = r.ReadString()
	case "orig":
		m.Origin, err = r.ReadString()
	case "det":
		m.Details, err = r.ReadString()
	case "keep":
		m.Keep, err = r.ReadBool()
	default:
		err = r.Skip() // a field of a later minor version
	}
	return err
}

func readSvcs(r *wire.Reader) ([]svcInfo, error) {
	n, err := r.ReadArrayLen()
	if err != nil {
		return nil, err
	}
	out := make([]svcInfo, 0, min(n, r.Remaining()/5)) // a service takes at least 5 bytes
	for range n {
		k, err := r.ReadArrayLen()
		if err != nil || k != 4 {
			return nil, errors.New("a service is [identity, name, audience, groups]")
		}
		var s svcInfo
		if s.ID, err = r.ReadString(); err != nil {
			return nil, err
		}
		if s.Name, err = r.ReadString(); err != nil {
			return nil, err
		}
		if s.Audience, err = r.ReadString(); err != nil {
			return nil, err
		}
		g, err := r.ReadArrayLen()
		if err != nil {
			return nil, err
		}
		for range g {
			x, err := r.ReadString()
			if err != nil {
				return nil, err
			}
			s.Groups = append(s.Groups, x)
		}
		if s.ID == "" {
			return nil, errors.New("a service without identity")
		}
		out = append(out, s)
	}
	return out, nil
}

func readLast(r *wire.Reader) (map[string]uint64, error) {
	n, err := r.ReadMapLen()
	if err != nil {
		return nil, err
	}
	out := make(map[string]uint64, min(n, 64))
	for range n {
		k, err := r.ReadString()
		if err != nil {
			return nil, err
		}
		if out[k], err = r.ReadUint(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func readSubs(r *wire.Reader) ([]subInfo, error) {
	n, err := r.ReadArrayLen()
	if err != nil {
		return nil, err
	}
	out := make([]subInfo, 0, min(n, r.Remaining()/4)) // a subscription takes at least 4 bytes
	for range n {
		k, err := r.ReadArrayLen()
		if err != nil || k != 3 {
			return nil, errors.New("a subscription is [publisher, subscriber, pattern]")
		}
		var s subInfo
		if s.Pub, err = r.ReadString(); err != nil {
			return nil, err
		}
		if s.Sub, err = r.ReadString(); err != nil {
			return nil, err
		}
		if s.Pattern, err = r.ReadString(); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}
