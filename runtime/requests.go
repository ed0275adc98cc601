package runtime

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"
	"time"
)

// OSE netsvc error codes carried by a Failure.
const (
	ClientUnknownError           = 40
	ClientResourceUnavailable    = 41
	ClientRequestEncodingError   = 42
	ClientResponseHeadersInvalid = 43
	ClientResponseDecodingError  = 44
	ClientServiceAddressInvalid  = 45
	ClientServiceUnavailable     = 46
	ClientRequestTimeout         = 47
	ClientRequestAborted         = 48

	ServerUnknownError          = 50
	ServerResourceUnavailable   = 51
	ServerResponseEncodingError = 52
	ServerRequestHeadersInvalid = 53
	ServerRequestDecodingError  = 54
	ServerMethodUnavailable     = 55
	ServerParametersIncorrect   = 56
	ServerApplicationError      = 57
	ServerResponseAborted       = 58
)

// ErrorDescriptions holds the standard description of each error code.
var errorDescriptions = map[int]string{
	ClientUnknownError:           "Unknown Error",
	ClientResourceUnavailable:    "Resource Unavailable",
	ClientRequestEncodingError:   "Request Encoding Error",
	ClientResponseHeadersInvalid: "Response Headers Invalid",
	ClientResponseDecodingError:  "Response Decoding Error",
	ClientServiceAddressInvalid:  "Service Address Invalid",
	ClientServiceUnavailable:     "Service Unavailable",
	ClientRequestTimeout:         "Request Timeout",
	ClientRequestAborted:         "Request Aborted",
	ServerUnknownError:           "Unknown Error",
	ServerResourceUnavailable:    "Resource Unavailable",
	ServerResponseEncodingError:  "Response Encoding Error",
	ServerRequestHeadersInvalid:  "Request Headers Invalid",
	ServerRequestDecodingError:   "Request Decoding Error",
	ServerMethodUnavailable:      "Method Unavailable",
	ServerParametersIncorrect:    "Parameters Incorrect",
	ServerApplicationError:       "Application Error",
	ServerResponseAborted:        "Response Aborted",
}

// ErrorDescription returns the standard description of an error code ("" if unknown).
func ErrorDescription(code int) string { return errorDescriptions[code] }

// A Failure is the negative answer to a request.
type Failure struct {
	Code           int
	Description    string
	Origin         string // who raised it: "netsvc" for the runtime itself
	Details        string
	ConversationID string
}

// Error implements error.
func (f *Failure) Error() string {
	s := "failure " + strconv.Itoa(f.Code) + " (" + f.Description + ")"
	if f.Origin != "" {
		s += " from " + f.Origin
	}
	if f.Details != "" {
		s += ": " + f.Details
	}
	return s
}

// NewFailure returns a Failure with code's standard description and origin "netsvc".
func NewFailure(code int, details string) *Failure {
	return &Failure{Code: code, Description: ErrorDescription(code), Origin: "netsvc", Details: details}
}

// Method handles a request. It must answer it, now or later, with
// Request.Reply or Request.Fail, on the service's owner goroutine.
type Method func(*Request)

// A Request is one conversation addressed to a service.
type Request struct {
	ID     string // conversation id
	Method string
	Args   []any
	Sender *Binding

	to     *Binding // the agent addressed
	target *Service // the service that took the request
	from   *Service

	answered  bool
	result    any
	failure   *Failure
	seq       uint64      // arrival order at the target
	abandoned atomic.Bool // the sender stopped waiting (timeout, ignored, destroyed)
}

// Abandoned reports whether the sender stopped waiting for the answer (its
// conversation timed out, was ignored, or the sender was destroyed): an
// answer would be dropped. It may be called from any goroutine; whoever
// carries a request elsewhere can stop there too.
func (r *Request) Abandoned() bool { return r.abandoned.Load() }

// To returns the binding the request was addressed to.
func (r *Request) To() *Binding { return r.to }

// Answered reports whether Reply or Fail has been called.
func (r *Request) Answered() bool { return r.answered }

// Reply answers the request with result. Only the first answer counts.
func (r *Request) Reply(result any) {
	if r.answered {
		return
	}
	r.answered = true
	r.result = result
	r.finish()
}

// Fail answers the request with a failure. Only the first answer counts.
func (r *Request) Fail(f *Failure) {
	if r.answered {
		return
	}
	r.answered = true
	f.ConversationID = r.ID
	r.failure = f
	r.finish()
}

func (r *Request) finish() {
	if r.target != nil && r.target.incoming != nil {
		delete(r.target.incoming, r.ID)
	}
	if r.failure != nil {
		r.from.rt.stats.Failures.Add(1)
	}
	r.from.agent.mb.push(entry{kind: entryResponse, req: r}, false)
}

func (r *Request) failWithdrawn() {
	r.Fail(NewFailure(ServerApplicationError, withdrawnDetails))
}

// pending is a conversation a service started and still waits on.
// abandon ends a conversation without its answer.
func (p *pending) abandon() {
	p.req.abandoned.Store(true)
	p.stop()
}

type pending struct {
	id        string
	req       *Request
	onResult  func(result any, id string)
	onFailure func(*Failure)
	timer     *time.Timer
}

func (p *pending) stop() {
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
}

// ExportMethod makes name callable by requests; m replaces any method of
// that name.
func (s *Service) ExportMethod(name string, m Method) {
	if s.Destroyed() {
		return
	}
	if s.methods == nil {
		s.methods = make(map[string]Method)
	}
	s.methods[name] = m
}

// UnexportMethod removes an exported method.
func (s *Service) UnexportMethod(name string) { delete(s.methods, name) }

// PendingRequest returns a request this service received and has not yet
// answered (for example, one whose method deferred its answer), or nil.
// After a hot reload it also finds the requests the previous version
// still holds while it drains.
func (s *Service) PendingRequest(id string) *Request {
	for ; s != nil; s = s.predecessor {
		if r := s.incoming[id]; r != nil {
			return r
		}
	}
	return nil
}

// SendRequest sends a request and returns its conversation id at once.
// The answer arrives through ProcessResponse and ProcessFailure callbacks
// registered for that id (in the same callback, or any time before the
// answer is processed); answers nobody waits for are dropped. A name
// target addresses the first service of that name. When the target does
// not exist, is withdrawn or cannot take the request, a failure is
// delivered the same way.
func (s *Service) SendRequest(target Target, method string, args []any) string {
	id := strconv.FormatUint(s.rt.seq.Add(1), 10) + "@" + s.rt.process
	s.rt.stats.RequestsSent.Add(1)
	if s.Destroyed() {
		return id
	}
	if s.outgoing == nil {
		s.outgoing = make(map[string]*pending)
	}
	r := &Request{ID: id, Method: method, Args: args, Sender: s.b, from: s}
	s.outgoing[id] = &pending{id: id, req: r}
	if s.hold(func() {
		r.Sender = s.b // Adopt may have given it its kept identity since
		s.route(r, target)
	}) {
		return id
	}
	s.route(r, target)
	return id
}

// route delivers a request to its target's mailbox, or fails it.
func (s *Service) route(r *Request, target Target) {
	b := target.b
	switch {
	case b == nil && target.addr != "":
		b = s.rt.reg.lookupAddress(target.addr)
	case b == nil:
		b = s.rt.reg.firstNamed(target.name)
	case b.location == Remote && b.withdrawn.Load():
		// a remote service seen again after a lost connection has a new
		// binding: the same agent, by identity
		if again := s.rt.reg.lookupAddress(b.identity); again != nil {
			b = again
		}
	}
	name := target.name
	if target.addr != "" {
		name = target.addr
	}
	switch {
	case b == nil:
		r.Fail(NewFailure(ClientServiceUnavailable, name))
	case b.withdrawn.Load() || b.agent == nil:
		r.failWithdrawn()
	default:
		r.to = b
		switch {
		case b.agent.mb.push(entry{kind: entryRequest, req: r}, true):
		case b.agent.mb.isClosed():
			r.failWithdrawn() // the agent stopped after the lookup
		default:
			s.rt.stats.RequestsRefused.Add(1)
			r.Fail(NewFailure(ServerResourceUnavailable, "mailbox of "+b.identity+" is full"))
		}
	}
}

// ProcessResponse registers fn to receive the result of conversation id.
func (s *Service) ProcessResponse(id string, fn func(result any, id string)) {
	if p := s.outgoing[id]; p != nil {
		p.onResult = fn
	}
}

// ProcessFailure registers fn to receive a failure of conversation id. A
// positive timeout ends the conversation with CLIENT_REQUEST_TIMEOUT if no
// answer was processed by then; a later answer is ignored.
func (s *Service) ProcessFailure(id string, fn func(*Failure), timeout time.Duration) {
	p := s.outgoing[id]
	if p == nil {
		return
	}
	p.onFailure = fn
	p.stop()
	if timeout > 0 {
		p.timer = time.AfterFunc(timeout, func() {
			s.agent.mb.push(entry{kind: entryFunc, fn: func() { s.timeoutConversation(p) }}, false)
		})
	}
}

// IgnoreResponse forgets conversation id: its answer will be dropped.
func (s *Service) IgnoreResponse(id string) {
	if p := s.outgoing[id]; p != nil {
		p.abandon()
		delete(s.outgoing, id)
	}
}

// ResponsePending reports whether conversation id still waits for an answer.
func (s *Service) ResponsePending(id string) bool { return s.outgoing[id] != nil }

func (s *Service) timeoutConversation(p *pending) {
	if s.outgoing[p.id] != p {
		return
	}
	delete(s.outgoing, p.id)
	p.timer = nil
	p.req.abandoned.Store(true)
	s.rt.stats.Failures.Add(1)
	if p.onFailure != nil {
		f := NewFailure(ClientRequestTimeout, "")
		f.ConversationID = p.id
		p.onFailure(f)
	}
}

func (a *Agent) deliverRequest(r *Request) {
	t := r.to.svc // the current version, also for requests queued before a reload
	if t == nil || t.Destroying() || t.life == lifeRetired {
		r.failWithdrawn()
		return
	}
	r.target = t
	if t.incoming == nil {
		t.incoming = make(map[string]*Request)
	}
	t.arrivals++
	r.seq = t.arrivals
	t.incoming[r.ID] = r
	defer func() {
		if v := recover(); v != nil {
			r.Fail(NewFailure(ServerApplicationError, "panic: "+fmt.Sprint(v)))
			panic(v)
		}
	}()
	if m := t.methods[r.Method]; m != nil {
		m(r)
		return
	}
	if t.hooks.InvalidMethod != nil {
		t.hooks.InvalidMethod(r)
		return
	}
	r.Fail(NewFailure(ServerMethodUnavailable, r.Method))
}

func (a *Agent) deliverResponse(r *Request) {
	s := r.from
	p := s.outgoing[r.ID]
	if p == nil || s.Destroyed() {
		return
	}
	delete(s.outgoing, r.ID)
	p.stop()
	if r.failure != nil {
		if p.onFailure != nil {
			p.onFailure(r.failure)
		}
		return
	}
	if p.onResult != nil {
		p.onResult(r.result, r.ID)
	}
}

// MethodFunc adapts a plain function to a Method that answers at once:
// its result is the reply; a *Failure error is the failure; any other
// error fails with SERVER_APPLICATION_ERROR and the error's text.
func MethodFunc(fn func(args []any) (any, error)) Method {
	return func(r *Request) {
		res, err := fn(r.Args)
		if err == nil {
			r.Reply(res)
			return
		}
		var f *Failure
		if errors.As(err, &f) {
			r.Fail(&Failure{Code: f.Code, Description: f.Description, Origin: f.Origin, Details: f.Details})
			return
		}
		r.Fail(NewFailure(ServerApplicationError, err.Error()))
	}
}

// unanswered returns the requests the service took and has not answered,
// in arrival order.
func (s *Service) unanswered() []*Request {
	out := make([]*Request, 0, len(s.incoming))
	for _, r := range s.incoming {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *Request) int { return cmp.Compare(a.seq, b.seq) })
	return out
}

// Answer replies to r on behalf of s: at once, or, while s is held, when
// its version is committed (never, if it is discarded).
func (s *Service) Answer(r *Request, result any) {
	if s.hold(func() { r.Reply(result) }) {
		return
	}
	r.Reply(result)
}

// AnswerFailure fails r on behalf of s, as Answer replies.
func (s *Service) AnswerFailure(r *Request, f *Failure) {
	if s.hold(func() { r.Fail(f) }) {
		return
	}
	r.Fail(f)
}

// Waiting returns how many conversations the service started and still waits on.
func (s *Service) Waiting() int { return len(s.outgoing) }

// Unanswered returns how many requests the service took and has not answered.
func (s *Service) Unanswered() int { return len(s.incoming) }
