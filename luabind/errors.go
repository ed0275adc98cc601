package luabind

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/agentd/agentd/runtime"
	lua "github.com/yuin/gopher-lua"
)

type frame struct {
	source string
	line   int
	name   string
}

const maxFrames = 24

func traceback(L *lua.LState) []frame {
	var out []frame
	for level := 0; len(out) < maxFrames; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			break
		}
		if _, err := L.GetInfo("Sln", dbg, lua.LNil); err != nil {
			break
		}
		name := dbg.Name
		if name == "" {
			name = "?"
		}
		out = append(out, frame{source: dbg.Source, line: dbg.CurrentLine, name: name})
	}
	return out
}

// traceWhere returns "file:line: " of the first script frame of fs, or "".
func traceWhere(fs []frame) string {
	if w := firstLuaFrame(fs); w != nil {
		return fmt.Sprintf("%s:%d: ", w.source, w.line)
	}
	return ""
}

func firstLuaFrame(fs []frame) *frame {
	for i := range fs {
		if fs[i].line > 0 && fs[i].source != preambleName {
			return &fs[i]
		}
	}
	return nil
}

func formatTrace(fs []frame) string {
	var b strings.Builder
	b.WriteString("stack traceback:")
	for _, f := range fs {
		if f.source == preambleName {
			continue
		}
		if f.line > 0 {
			fmt.Fprintf(&b, "\n\t%s:%d: in function '%s'", f.source, f.line, f.name)
		} else {
			fmt.Fprintf(&b, "\n\t[Go]: in function '%s'", f.name)
		}
	}
	return b.String()
}

// errorText describes an error value: a string as is, a failure by its
// fields, anything else by its type.
func errorText(v lua.LValue) string {
	switch v := v.(type) {
	case lua.LString:
		return stripPreamble(string(v))
	case *lua.LTable:
		if code, ok := v.RawGetString("error").(lua.LNumber); ok {
			return fmt.Sprintf("uncaught failure %d (%s) from %s: %s", int(code),
				lua.LVAsString(v.RawGetString("description")), lua.LVAsString(v.RawGetString("origin")),
				lua.LVAsString(v.RawGetString("details")))
		}
	case *lua.LUserData:
		if f, ok := v.Value.(*runtime.Failure); ok {
			return "abortResponse outside a request: " + f.Error()
		}
	}
	return "error object is a " + v.Type().String() + " value"
}

// splitWhere splits "file:line: message" when file is the script.
func splitWhere(msg, file string) (int, string, bool) {
	rest, ok := strings.CutPrefix(msg, file+":")
	if !ok {
		return 0, msg, false
	}
	num, text, ok := strings.Cut(rest, ":")
	if !ok {
		return 0, msg, false
	}
	n, err := strconv.Atoi(num)
	if err != nil {
		return 0, msg, false
	}
	return n, strings.TrimSpace(text), true
}

var traceRE = regexp.MustCompile(`(?m)^\s*(.+?):(\d+):`)

// traceLine finds the first line of file in a traceback.
func traceLine(trace, file string) int {
	for _, m := range traceRE.FindAllStringSubmatch(trace, -1) {
		if m[1] == file {
			n, _ := strconv.Atoi(m[2])
			return n
		}
	}
	return 0
}

// stripPreamble removes the position of a preamble frame from an error
// message: an error raised by a Go function that the preamble called
// directly (a callback, or a function given to pcall) would otherwise be
// placed in the preamble, where standard Lua, calling from C, places none.
func stripPreamble(msg string) string {
	rest, ok := strings.CutPrefix(msg, preambleName+":")
	if !ok {
		return msg
	}
	if _, text, ok := strings.Cut(rest, ": "); ok {
		return text
	}
	return msg
}
