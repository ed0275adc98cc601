package luabind

import (
	"maps"
	"reflect"
	"slices"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// A converter turns report content, request arguments and results into
// Lua values and back for one state, with fewer allocations than the plain
// ToLua and FromLua (which use a nil converter). Only the state's owner
// goroutine uses it. Nothing it keeps can be seen by a script: it hands out
// immutable values only (boxed strings and numbers), never a table twice.
//
// Where the allocations go otherwise: gopher-lua's RawSetString boxes each
// key twice and grows the table's key list and key index one key at a
// time (about 15 of the 20 allocations of a 5-field table), and every
// number or string changes its interface type on the way (one allocation
// each way).
type converter struct {
	strs   map[string]lua.LValue // boxed strings (table keys, subjects), at most maxInterned
	floats []float64             // a block of boxed Lua numbers
	ints   []int64               // a block of boxed Go integers
	shape  *tableShape           // of the last table built from a map

	ordered bool // read tables in their key order only (for errors)
}

// maxInterned bounds the boxed strings a state keeps: content keys and
// subjects are few; anything beyond is boxed each time.
const maxInterned = 512

// boxBlock is how many numbers one allocation holds (as gopher-lua's own
// allocator does for the numbers its VM computes). A block stays in memory
// while any number in it is alive.
const boxBlock = 32

// interface words, as laid out by Go: a type (or itab) pointer and a
// pointer to the value. gopher-lua's allocator (alloc.go) builds LValues
// the same way.
type ifaceWords struct {
	tab  unsafe.Pointer
	data unsafe.Pointer
}

func words[T any](v *T) *ifaceWords { return (*ifaceWords)(unsafe.Pointer(v)) }

var (
	lstringTab  = tabOf(lua.LValue(lua.LString("x")))
	lnumberTab  = tabOf(lua.LValue(lua.LNumber(1.5)))
	stringType  = tabOf(any("x"))
	float64Type = tabOf(any(1.5))
	int64Type   = tabOf(any(int64(1 << 40)))
)

func tabOf[T any](v T) unsafe.Pointer { return words(&v).tab }

// The functions below re-type a boxed value without copying it: a Go
// string and an LString, a float64 and an LNumber have the same
// representation, and boxed values are immutable, so the new interface
// may share the old one's data.

// luaFromWord returns the LValue of type tab whose data is v's.
func luaFromWord(tab unsafe.Pointer, v *any) lua.LValue {
	var out lua.LValue
	w := words(&out)
	w.tab, w.data = tab, words(v).data
	return out
}

// anyFromWord returns the Go value of type typ whose data is v's.
func anyFromWord(typ unsafe.Pointer, v *lua.LValue) any {
	var out any
	w := words(&out)
	w.tab, w.data = typ, words(v).data
	return out
}

// number boxes an integer's value as a Lua number.
func (c *converter) number(x int64) lua.LValue {
	if c == nil {
		return lua.LNumber(x)
	}
	if len(c.floats) == cap(c.floats) {
		c.floats = make([]float64, 0, boxBlock)
	}
	c.floats = append(c.floats, float64(x))
	var out lua.LValue
	w := words(&out)
	w.tab, w.data = lnumberTab, unsafe.Pointer(&c.floats[len(c.floats)-1])
	return out
}

// integer boxes a Go int64.
func (c *converter) integer(x int64) any {
	if c == nil || (x >= 0 && x < 256) { // Go boxes these without allocating
		return x
	}
	if len(c.ints) == cap(c.ints) {
		c.ints = make([]int64, 0, boxBlock)
	}
	c.ints = append(c.ints, x)
	var out any
	w := words(&out)
	w.tab, w.data = int64Type, unsafe.Pointer(&c.ints[len(c.ints)-1])
	return out
}

// str returns s boxed as an LValue, from the interned strings when it is
// one of them.
func (c *converter) str(s string) lua.LValue {
	if c == nil {
		return lua.LString(s)
	}
	if v, ok := c.strs[s]; ok {
		return v
	}
	v := lua.LValue(lua.LString(s))
	if len(c.strs) < maxInterned {
		if c.strs == nil {
			c.strs = make(map[string]lua.LValue)
		}
		c.strs[s] = v
	}
	return v
}

// toLua is ToLua with this converter's savings.
func (c *converter) toLua(L *lua.LState, v any) lua.LValue {
	switch x := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(x)
	case int64:
		return c.number(x)
	case float64:
		if c == nil {
			return lua.LNumber(x)
		}
		return luaFromWord(lnumberTab, &v)
	case string:
		if c == nil {
			return lua.LString(x)
		}
		return luaFromWord(lstringTab, &v)
	case map[string]any:
		return c.table(L, x)
	case []any:
		t := L.CreateTable(len(x), 0)
		for i, e := range x {
			t.RawSetInt(i+1, c.toLua(L, e))
		}
		return t
	}
	return otherToLua(L, v)
}

// table builds a table with string keys. When gopher-lua's table has the
// layout this package was written against (checked at start-up), it fills
// the table's key list and index at their final size, with one boxed key
// shared by both; otherwise it goes through RawSetString.
func (c *converter) table(L *lua.LState, m map[string]any) *lua.LTable {
	if !fastTables || len(m) == 0 {
		t := L.CreateTable(0, len(m))
		for k, x := range m {
			t.RawSetString(k, c.toLua(L, x))
		}
		return t
	}
	t, tl := newTableWithKeys(len(m))
	tl.strdict = make(map[string]lua.LValue, len(m))
	// Content of one publisher usually has the same keys report after
	// report: then the key list and index are copies of the last ones
	// (a copy of a small map costs no hashing).
	var sh *tableShape
	if c != nil {
		sh = c.shape
	}
	same := sh != nil && len(sh.keys) == len(m)
	for k, x := range m {
		if x == nil {
			same = false
			continue // as RawSetString(k, LNil): no entry
		}
		tl.strdict[k] = c.toLua(L, x)
		if same {
			_, same = sh.k2i[c.str(k)]
		}
	}
	if same {
		tl.keys = append(tl.keys, sh.keys...)
		tl.k2i = maps.Clone(sh.k2i)
		return t
	}
	tl.k2i = make(map[lua.LValue]int, len(tl.strdict))
	for k := range tl.strdict {
		key := c.str(k)
		tl.k2i[key] = len(tl.keys)
		tl.keys = append(tl.keys, key)
	}
	if c != nil && len(tl.keys) == len(m) {
		c.shape = &tableShape{keys: slices.Clone(tl.keys), k2i: maps.Clone(tl.k2i)}
	}
	return t
}

// A tableShape is the key list and index of the last table built from a
// map without nil values: immutable, copied into tables with the same keys.
type tableShape struct {
	keys []lua.LValue
	k2i  map[lua.LValue]int
}

// newTableWithKeys returns an empty table and its layout, its key list
// reserved for n keys in the same allocation as the table when n is small.
func newTableWithKeys(n int) (*lua.LTable, *tableLayout) {
	var tl *tableLayout
	switch {
	case n <= 4:
		x := &struct {
			t    tableLayout
			keys [4]lua.LValue
		}{}
		x.t.keys = x.keys[:0]
		tl = &x.t
	case n <= 8:
		x := &struct {
			t    tableLayout
			keys [8]lua.LValue
		}{}
		x.t.keys = x.keys[:0]
		tl = &x.t
	default:
		tl = &tableLayout{keys: make([]lua.LValue, 0, n)}
	}
	tl.Metatable = lua.LNil
	return (*lua.LTable)(unsafe.Pointer(tl)), tl
}

// smallTable returns an empty table for a few string keys. gopher-lua's
// NewTable reserves 32 array slots and 32 string keys, and a table made
// empty reserves 32 string keys at its first one: about 2.5 KiB, for a
// service object that usually holds a handful of fields.
func smallTable(L *lua.LState) *lua.LTable {
	t := L.CreateTable(0, 0)
	if fastTables {
		(*tableLayout)(unsafe.Pointer(t)).strdict = make(map[string]lua.LValue)
	}
	return t
}

// tableLayout mirrors lua.LTable of gopher-lua v1.1.1, whose fields are
// unexported: a string-keyed table keeps its values in strdict, and, for
// Next, every key ever set in keys with its index in k2i. fastTables says
// whether the mirror matches the real type field by field (name, type,
// offset); if gopher-lua changes, the fast path turns itself off and
// TestFastTables fails.
type tableLayout struct {
	Metatable lua.LValue
	array     []lua.LValue
	dict      map[lua.LValue]lua.LValue
	strdict   map[string]lua.LValue
	keys      []lua.LValue
	k2i       map[lua.LValue]int
}

var fastTables = sameLayout(reflect.TypeFor[lua.LTable](), reflect.TypeFor[tableLayout]())

func sameLayout(a, b reflect.Type) bool {
	if a.Size() != b.Size() || a.NumField() != b.NumField() {
		return false
	}
	for i := range a.NumField() {
		x, y := a.Field(i), b.Field(i)
		if x.Name != y.Name || x.Type != y.Type || x.Offset != y.Offset {
			return false
		}
	}
	return true
}
