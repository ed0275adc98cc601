package luabind

import (
	"fmt"
	"strings"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
	"github.com/yuin/gopher-lua/pm"
)

// Bounds on what one call of a builtin may ask for. A Go function is not
// interrupted by the callback limit, so each builtin that could build an
// unbounded value, or run for long on one call, checks what it is asked
// first and raises an error the script can catch. spec/lua-api.md
// (section 12.4) states them.
const (
	// DefaultAllocLimit is the default of Options.AllocLimit (64 MiB).
	DefaultAllocLimit = 64 << 20

	// maxResults bounds the values one call pushes on the Lua stack
	// (unpack, string.byte): Lua 5.1's own bound (LUAI_MAXCSTACK).
	maxResults = 8000

	// maxNesting bounds how deep pcall, xpcall and coroutines nest: each
	// level is a Lua thread resumed on the Go stack. Lua 5.1 has the same
	// bound (LUAI_MAXCCALLS) on nested C calls.
	maxNesting = 200

	// maxSyntaxDepth bounds how deep blocks and expressions nest in a
	// chunk (Lua 5.1: "chunk has too many syntax levels"): gopher-lua
	// compiles deep nesting in quadratic time.
	maxSyntaxDepth = 200

	// maxElseifs bounds the branches of one if statement: gopher-lua
	// compiles an elseif chain in quadratic time.
	maxElseifs = 1000

	// maxConstantWork bounds, per function, the uses of constants (string
	// and number literals, global and field names) times the number of
	// distinct ones, and labels times gotos: gopher-lua finds each by a
	// linear search.
	maxConstantWork = 1 << 26

	// maxChunk bounds the source that loadstring and load compile.
	maxChunk = 1 << 20

	// maxArrayIndex bounds the array part of every table (gopher-lua's
	// lua.MaxArrayIndex, 2^26 by default): t[k] = v with k inside it fills
	// the gap up to k in one step (1 GiB and about a minute for 2^26).
	// Larger integer keys live in the hash part.
	maxArrayIndex = 1 << 22
)

// gopher-lua has no per-state setting for the array part: set its global
// once, before any Lua state of this process exists.
func init() { lua.MaxArrayIndex = maxArrayIndex }

// installLimits replaces the builtins of a fresh state that could build an
// unbounded value in one call by bounded versions.
func (st *state) installLimits() {
	L := st.L
	str := L.GetGlobal("string").(*lua.LTable)
	tbl := L.GetGlobal("table").(*lua.LTable)
	set := func(t *lua.LTable, name string, fn lua.LGFunction) { t.RawSetString(name, L.NewFunction(fn)) }
	format := str.RawGetString("format").(*lua.LFunction).GFunction
	insert := tbl.RawGetString("insert").(*lua.LFunction).GFunction

	set(L.G.Global, "unpack", unpack)
	set(L.G.Global, "loadstring", loadstring)
	set(L.G.Global, "load", load)
	set(str, "byte", strByte)
	set(str, "rep", st.strRep)
	set(str, "format", func(L *lua.LState) int { return st.strFormat(L, format) })
	set(str, "gsub", st.strGsub)
	gmatch := L.NewFunction(strGmatch)
	str.RawSetString("gmatch", gmatch)
	str.RawSetString("gfind", gmatch)
	set(tbl, "concat", st.tableConcat)
	set(tbl, "insert", func(L *lua.LState) int { return tableInsert(L, insert) })
}

// tooLarge raises the error of a builtin whose result would pass the
// allocation limit.
func (st *state) tooLarge(L *lua.LState, fname string, size float64) {
	L.RaiseError("%s: the result would be %s, more than alloc_limit (%s)",
		fname, formatSize(size), formatSize(float64(st.h.opts.AllocLimit)))
}

// reserve makes room for n more values on the Lua stack at once: gopher-lua
// grows it by a fixed step (32 slots) on each push that needs it, which
// costs quadratic time for many values.
func reserve(L *lua.LState, n int) {
	if n > 256 {
		top := L.GetTop()
		L.SetTop(top + n)
		L.SetTop(top)
	}
}

// unpack(t [, i [, j]]) returns t[i], ..., t[j]: at most maxResults values.
func unpack(L *lua.LState) int {
	t := L.CheckTable(1)
	i := L.OptInt(2, 1)
	j := L.OptInt(3, t.Len())
	if i > j {
		return 0
	}
	if uint64(j)-uint64(i) >= maxResults {
		L.RaiseError("too many results to unpack (%d values asked, at most %d)", uint64(j)-uint64(i)+1, maxResults)
	}
	n := j - i + 1
	reserve(L, n)
	for k := i; k <= j; k++ {
		L.Push(t.RawGetInt(k))
	}
	return n
}

// strByte is string.byte(s [, i [, j]]) as in Lua 5.1 (j defaults to i):
// at most maxResults bytes.
func strByte(L *lua.LState) int {
	s := L.CheckString(1)
	n := int64(len(s))
	relat := func(pos int64) int64 { // a negative position counts from the end
		if pos < 0 {
			pos += n + 1
		}
		return max(pos, 0)
	}
	i := relat(int64(L.OptInt(2, 1)))
	j := relat(int64(L.OptInt(3, int(i))))
	i, j = max(i, 1), min(j, n)
	if i > j {
		return 0
	}
	if j-i >= maxResults {
		L.RaiseError("string slice too long (%d bytes asked, at most %d)", j-i+1, maxResults)
	}
	reserve(L, int(j-i+1))
	for k := i; k <= j; k++ {
		L.Push(lua.LNumber(s[k-1]))
	}
	return int(j - i + 1)
}

func (st *state) strRep(L *lua.LState) int {
	s := L.CheckString(1)
	n := L.CheckInt(2)
	if n <= 0 || s == "" {
		L.Push(lua.LString(""))
		return 1
	}
	if int64(n) > st.h.opts.AllocLimit/int64(len(s)) {
		st.tooLarge(L, "string.rep", float64(n)*float64(len(s)))
	}
	L.Push(lua.LString(strings.Repeat(s, n)))
	return 1
}

// strFormat checks a format and the size of its result, then formats with
// gopher-lua's string.format. As in Lua, width and precision have at most
// two digits (Go's fmt would pad to any width), and a conversion is a
// letter (Go's fmt would read "%[1]" as an argument index).
func (st *state) strFormat(L *lua.LState, format lua.LGFunction) int {
	f := L.CheckString(1)
	size := float64(len(f))
	arg := 2
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		if i++; i < len(f) && f[i] == '%' {
			continue
		}
		for i < len(f) && strings.IndexByte("-+ #0", f[i]) >= 0 {
			i++
		}
		width, prec := 0, 0
		number := func(v *int) {
			for k := 0; i < len(f) && f[i] >= '0' && f[i] <= '9'; k++ {
				if k == 2 {
					L.RaiseError("invalid format (width or precision too long)")
				}
				*v = *v*10 + int(f[i]-'0')
				i++
			}
		}
		number(&width)
		if i < len(f) && f[i] == '.' {
			i++
			number(&prec)
		}
		if i == len(f) {
			break // gopher-lua's format says what is missing
		}
		c := f[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			L.RaiseError("invalid option '%%%c' to 'format'", c)
		}
		v := L.Get(arg)
		arg++
		s, isString := v.(lua.LString)
		switch {
		case c == 's' && isString:
			size += float64(len(s) + width)
		case c == 'q' && isString:
			size += float64(4*len(s) + 2) // escapes take up to 4 bytes a byte
		default: // a number, or a short description of another value
			size += float64(width + prec + 400)
		}
	}
	if size > float64(st.h.opts.AllocLimit) {
		st.tooLarge(L, "string.format", size)
	}
	return format(L)
}

// eachMatch calls fn for each match of pattern in s, in order, with the
// semantics of gopher-lua's pm.Find (an anchored pattern matches once,
// matching resumes at the end of a match or one past an empty one), max
// matches if max > 0. It asks pm for a few matches at a time: pm.Find
// collects every match before it returns.
func eachMatch(pattern, s string, max int, fn func(*pm.MatchData)) error {
	src := unsafe.Slice(unsafe.StringData(s), len(s)) // pm only reads it
	anchored := strings.HasPrefix(pattern, "^")
	count := 0
	for pos := 0; pos <= len(s); {
		batch := 64
		if max > 0 {
			batch = min(batch, max-count)
		}
		ms, err := pm.Find(pattern, src, pos, batch)
		if err != nil {
			return err
		}
		for _, m := range ms {
			fn(m)
		}
		count += len(ms)
		if len(ms) < batch || anchored || max > 0 && count >= max {
			return nil
		}
		last := ms[len(ms)-1]
		pos = nextMatchPos(last)
	}
	return nil
}

// nextMatchPos is where matching resumes after m.
func nextMatchPos(m *pm.MatchData) int { return max(m.Capture(0)+1, m.Capture(1)) }

// capture returns capture idx (0: the whole match) of m in s as gopher-lua's
// gsub does: "%1" of a pattern without captures is the whole match.
func capture(L *lua.LState, m *pm.MatchData, s string, idx int) string {
	if idx > 2 && idx >= m.CaptureLength() {
		L.RaiseError("invalid capture index")
	}
	if idx >= m.CaptureLength() {
		idx = 0
	}
	if m.IsPosCapture(idx) {
		return fmt.Sprint(m.Capture(idx))
	}
	return s[m.Capture(idx):m.Capture(idx+1)]
}

// strGsub is string.gsub(s, pattern, repl [, n]) with gopher-lua's
// semantics, built in one pass (gopher-lua copies the whole string for
// each match) and bounded by the allocation limit. n = 0 replaces nothing.
func (st *state) strGsub(L *lua.LState) int {
	s := L.CheckString(1)
	pattern := L.CheckString(2)
	L.CheckTypes(3, lua.LTString, lua.LTTable, lua.LTFunction)
	repl := L.Get(3)
	max := L.OptInt(4, -1)
	limit := st.h.opts.AllocLimit
	var b strings.Builder
	last, count := 0, 0
	check := func(more int) {
		if int64(b.Len())+int64(more) > limit {
			L.RaiseError("string.gsub: the result would be larger than alloc_limit (%s)", formatSize(float64(limit)))
		}
	}
	put := func(text string) {
		check(len(text))
		b.WriteString(text)
	}
	var err error
	if max != 0 {
		err = eachMatch(pattern, s, max, func(m *pm.MatchData) {
			count++
			start, end := m.Capture(0), m.Capture(1)
			switch r := repl.(type) {
			case lua.LString:
				put(s[last:start])
				expand(L, string(r), m, s, put)
			case *lua.LTable:
				idx := 0
				if m.CaptureLength() > 2 {
					idx = 2
				}
				var v lua.LValue
				if m.IsPosCapture(idx) {
					v = L.GetTable(r, lua.LNumber(m.Capture(idx)))
				} else {
					v = L.GetField(r, s[m.Capture(idx):m.Capture(idx+1)])
				}
				if lua.LVIsFalse(v) {
					return // keep the match
				}
				put(s[last:start])
				put(lua.LVAsString(v))
			case *lua.LFunction:
				L.Push(r)
				nargs := 1
				if n := m.CaptureLength(); n > 2 {
					nargs = 0
					for i := 2; i < n; i += 2 {
						if m.IsPosCapture(i) {
							L.Push(lua.LNumber(m.Capture(i)))
						} else {
							L.Push(lua.LString(s[m.Capture(i):m.Capture(i+1)]))
						}
						nargs++
					}
				} else {
					L.Push(lua.LString(s[start:end]))
				}
				L.Call(nargs, 1)
				v := L.Get(-1)
				L.Pop(1)
				if lua.LVIsFalse(v) {
					return
				}
				put(s[last:start])
				put(lua.LVAsString(v))
			}
			last = end
		})
	}
	if err != nil {
		L.RaiseError("%s", err.Error())
	}
	if count == 0 {
		L.SetTop(1)
		L.Push(lua.LNumber(0))
		return 2
	}
	put(s[last:])
	L.Push(lua.LString(b.String()))
	L.Push(lua.LNumber(count))
	return 2
}

// expand writes a replacement string with gopher-lua's escapes: "%0" to
// "%9" a capture, "%%" a percent sign; a "%" before any other character,
// or at the end, stays as written.
func expand(L *lua.LState, repl string, m *pm.MatchData, s string, put func(string)) {
	for i := 0; i < len(repl); i++ {
		j := strings.IndexByte(repl[i:], '%')
		if j < 0 {
			put(repl[i:])
			return
		}
		put(repl[i : i+j])
		i += j
		if i == len(repl)-1 {
			put("%")
			return
		}
		i++
		switch c := repl[i]; {
		case c == '%':
			put("%")
		case c >= '0' && c <= '9':
			put(capture(L, m, s, 2*int(c-'0')))
		default:
			put(repl[i-1 : i+1])
		}
	}
}

// strGmatch is string.gmatch(s, pattern): an iterator that finds the
// matches a few at a time (gopher-lua's finds them all first). Unlike
// gopher-lua's, it can also be called directly.
func strGmatch(L *lua.LState) int {
	s := L.CheckString(1)
	pattern := L.CheckString(2)
	var pending []*pm.MatchData
	pos, done := 0, false
	L.Push(L.NewFunction(func(L *lua.LState) int {
		if len(pending) == 0 {
			if done {
				return 0
			}
			const batch = 16
			ms, err := pm.Find(pattern, unsafe.Slice(unsafe.StringData(s), len(s)), pos, batch)
			if err != nil {
				L.RaiseError("%s", err.Error())
			}
			if len(ms) < batch || strings.HasPrefix(pattern, "^") {
				done = true
			}
			if len(ms) == 0 {
				return 0
			}
			pos = nextMatchPos(ms[len(ms)-1])
			pending = ms
		}
		m := pending[0]
		pending[0] = nil
		pending = pending[1:]
		if m.CaptureLength() == 2 {
			L.Push(lua.LString(s[m.Capture(0):m.Capture(1)]))
			return 1
		}
		for i := 2; i < m.CaptureLength(); i += 2 {
			if m.IsPosCapture(i) {
				L.Push(lua.LNumber(m.Capture(i)))
			} else {
				L.Push(lua.LString(s[m.Capture(i):m.Capture(i+1)]))
			}
		}
		return m.CaptureLength()/2 - 1
	}))
	return 1
}

// tableConcat is table.concat(t [, sep [, i [, j]]]) with gopher-lua's
// semantics, built in one pass (gopher-lua pushes every piece on the Lua
// stack) and bounded by the allocation limit.
func (st *state) tableConcat(L *lua.LState) int {
	t := L.CheckTable(1)
	sep := L.OptString(2, "")
	n := t.Len()
	i := L.OptInt(3, 1)
	j := L.OptInt(4, n)
	if L.GetTop() == 3 && (i > n || i < 1) {
		L.Push(lua.LString(""))
		return 1
	}
	i, j = max(min(i, n), 1), min(j, n)
	if i > j {
		L.Push(lua.LString(""))
		return 1
	}
	size := float64(j-i) * float64(len(sep))
	for k := i; k <= j; k++ {
		switch v := t.RawGetInt(k).(type) {
		case lua.LString:
			size += float64(len(v))
		case lua.LNumber:
			size += float64(len(v.String()))
		default:
			L.RaiseError("invalid value (%s) at index %d in table for concat", v.Type().String(), k)
		}
	}
	if size > float64(st.h.opts.AllocLimit) {
		st.tooLarge(L, "table.concat", size)
	}
	var b strings.Builder
	b.Grow(int(size))
	for k := i; k <= j; k++ {
		if k > i {
			b.WriteString(sep)
		}
		b.WriteString(lua.LVAsString(t.RawGetInt(k)))
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// tableInsert is table.insert, refused when the table's array part is
// full: past maxArrayIndex, gopher-lua would append where t[k] no longer
// reads.
func tableInsert(L *lua.LState, insert lua.LGFunction) int {
	if t, ok := L.Get(1).(*lua.LTable); ok && L.GetTop() >= 2 && t.Len() >= maxArrayIndex-1 {
		L.RaiseError("table.insert: the table already holds %d elements, the most a sequence can hold", t.Len())
	}
	return insert(L)
}

// loadstring(s [, chunkname]) compiles s, within the chunk bounds.
func loadstring(L *lua.LState) int {
	return loadChunk(L, L.CheckString(1), L.OptString(2, "<string>"))
}

// load(f [, chunkname]) compiles the pieces f returns, within the chunk
// bounds.
func load(L *lua.LState) int {
	fn := L.CheckFunction(1)
	name := L.OptString(2, "?")
	var b strings.Builder
	top := L.GetTop()
	for {
		L.SetTop(top)
		L.Push(fn)
		L.Call(0, 1)
		v := L.Get(-1)
		L.Pop(1)
		if v == lua.LNil {
			break
		}
		if !lua.LVCanConvToString(v) {
			L.Push(lua.LNil)
			L.Push(lua.LString("reader function must return a string"))
			return 2
		}
		piece := lua.LVAsString(v)
		if piece == "" {
			break
		}
		if b.Len()+len(piece) > maxChunk {
			return chunkTooLarge(L, name)
		}
		b.WriteString(piece)
	}
	return loadChunk(L, b.String(), name)
}

func chunkTooLarge(L *lua.LState, name string) int {
	L.Push(lua.LNil)
	L.Push(lua.LString(fmt.Sprintf("%s: chunk too large (at most %s)", name, formatSize(maxChunk))))
	return 2
}

// loadChunk compiles src as loadstring does: the function, or nil and the
// error message.
func loadChunk(L *lua.LState, src, name string) int {
	if len(src) > maxChunk {
		return chunkTooLarge(L, name)
	}
	chunk, err := parse.Parse(strings.NewReader(src), name)
	if err == nil {
		if ce := checkChunk(chunk, name); ce != nil {
			err = ce
		}
	}
	var proto *lua.FunctionProto
	if err == nil {
		proto, err = lua.Compile(chunk, name)
	}
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	L.Push(L.NewFunctionFromProto(proto))
	return 1
}
