package luabind

import (
	"fmt"

	"github.com/yuin/gopher-lua/ast"
)

// A chunkError is a parsed chunk that agentd refuses to compile: gopher-lua
// would take too long (seconds to minutes) in one uninterruptible call.
type chunkError struct {
	name string
	line int
	msg  string
}

func (e *chunkError) Error() string { return fmt.Sprintf("%s:%d: %s", e.name, e.line, e.msg) }

// checkChunk checks a parsed chunk against maxSyntaxDepth, maxElseifs and
// maxConstantWork before gopher-lua compiles it.
func checkChunk(chunk []ast.Stmt, name string) *chunkError {
	c := &chunkChecker{name: name}
	c.function(chunk, 1, 0)
	return c.err
}

type chunkChecker struct {
	name string
	err  *chunkError
	fn   *constantUse // of the function being walked
}

// constantUse counts the uses of constants in one function and the distinct
// ones ("s" or "n" and the text: an upper bound, since a local's name
// counts like a global's).
type constantUse struct {
	uses     int
	distinct map[string]struct{}
	labels   int // and gotos: gopher-lua matches them pairwise
	gotos    int
}

func (c *chunkChecker) constant(kind byte, text string) {
	c.fn.uses++
	c.fn.distinct[string(kind)+text] = struct{}{}
}

func (c *chunkChecker) fail(line int, format string, args ...any) {
	if c.err == nil {
		c.err = &chunkError{name: c.name, line: line, msg: fmt.Sprintf(format, args...)}
	}
}

// deeper reports whether depth is still allowed, and records the error once.
func (c *chunkChecker) deeper(depth, line int) bool {
	if c.err != nil {
		return false
	}
	if depth > maxSyntaxDepth {
		c.fail(line, "chunk has too many syntax levels (blocks and expressions nested more than %d deep)", maxSyntaxDepth)
		return false
	}
	return true
}

func (c *chunkChecker) function(body []ast.Stmt, line, depth int) {
	outer := c.fn
	c.fn = &constantUse{distinct: make(map[string]struct{})}
	c.block(body, depth+1)
	if c.fn.uses*len(c.fn.distinct) > maxConstantWork {
		c.fail(line, "function has too many constants (%d uses of %d distinct literals and names; split it into smaller functions)",
			c.fn.uses, len(c.fn.distinct))
	}
	if c.fn.labels*c.fn.gotos > maxConstantWork {
		c.fail(line, "function has too many labels and gotos (%d labels, %d gotos; split it into smaller functions)",
			c.fn.labels, c.fn.gotos)
	}
	c.fn = outer
}

func (c *chunkChecker) block(stmts []ast.Stmt, depth int) {
	for _, s := range stmts {
		c.stmt(s, depth)
	}
}

func (c *chunkChecker) exprs(es []ast.Expr, depth int) {
	for _, e := range es {
		c.expr(e, depth)
	}
}

func (c *chunkChecker) stmt(s ast.Stmt, depth int) {
	if !c.deeper(depth, s.Line()) {
		return
	}
	switch s := s.(type) {
	case *ast.AssignStmt:
		c.exprs(s.Lhs, depth+1)
		c.exprs(s.Rhs, depth+1)
	case *ast.LocalAssignStmt:
		c.exprs(s.Exprs, depth+1)
	case *ast.FuncCallStmt:
		c.expr(s.Expr, depth+1)
	case *ast.DoBlockStmt:
		c.block(s.Stmts, depth+1)
	case *ast.WhileStmt:
		c.expr(s.Condition, depth+1)
		c.block(s.Stmts, depth+1)
	case *ast.RepeatStmt:
		c.block(s.Stmts, depth+1)
		c.expr(s.Condition, depth+1)
	case *ast.IfStmt:
		// an elseif is an if nested in the else part: count the chain as
		// one level, and bound its length
		for branches := 1; s != nil; branches++ {
			if branches > maxElseifs {
				c.fail(s.Line(), "if statement has too many elseif branches (more than %d)", maxElseifs)
				return
			}
			c.expr(s.Condition, depth+1)
			c.block(s.Then, depth+1)
			next, elseif := (*ast.IfStmt)(nil), false
			if len(s.Else) == 1 {
				next, elseif = s.Else[0].(*ast.IfStmt)
			}
			if !elseif {
				c.block(s.Else, depth+1)
				break
			}
			s = next
		}
	case *ast.NumberForStmt:
		c.expr(s.Init, depth+1)
		c.expr(s.Limit, depth+1)
		if s.Step != nil {
			c.expr(s.Step, depth+1)
		}
		c.block(s.Stmts, depth+1)
	case *ast.GenericForStmt:
		c.exprs(s.Exprs, depth+1)
		c.block(s.Stmts, depth+1)
	case *ast.FuncDefStmt:
		c.expr(s.Name.Func, depth+1)
		if s.Name.Receiver != nil {
			c.expr(s.Name.Receiver, depth+1)
		}
		if s.Name.Method != "" {
			c.constant('s', s.Name.Method)
		}
		c.expr(s.Func, depth+1)
	case *ast.ReturnStmt:
		c.exprs(s.Exprs, depth+1)
	case *ast.LabelStmt:
		c.fn.labels++
	case *ast.GotoStmt:
		c.fn.gotos++
	}
}

func (c *chunkChecker) expr(e ast.Expr, depth int) {
	if e == nil || !c.deeper(depth, e.Line()) {
		return
	}
	switch e := e.(type) {
	case *ast.NumberExpr:
		c.constant('n', e.Value)
	case *ast.StringExpr:
		c.constant('s', e.Value)
	case *ast.IdentExpr:
		c.constant('s', e.Value)
	case *ast.AttrGetExpr:
		c.expr(e.Object, depth+1)
		c.expr(e.Key, depth+1)
	case *ast.TableExpr:
		for _, f := range e.Fields {
			c.expr(f.Key, depth+1)
			c.expr(f.Value, depth+1)
		}
	case *ast.FuncCallExpr:
		c.expr(e.Func, depth+1)
		c.expr(e.Receiver, depth+1)
		if e.Method != "" {
			c.constant('s', e.Method)
		}
		c.exprs(e.Args, depth+1)
	case *ast.LogicalOpExpr:
		c.expr(e.Lhs, depth+1)
		c.expr(e.Rhs, depth+1)
	case *ast.RelationalOpExpr:
		c.expr(e.Lhs, depth+1)
		c.expr(e.Rhs, depth+1)
	case *ast.StringConcatOpExpr:
		c.expr(e.Lhs, depth+1)
		c.expr(e.Rhs, depth+1)
	case *ast.ArithmeticOpExpr:
		c.expr(e.Lhs, depth+1)
		c.expr(e.Rhs, depth+1)
	case *ast.UnaryMinusOpExpr:
		c.expr(e.Expr, depth+1)
	case *ast.UnaryNotOpExpr:
		c.expr(e.Expr, depth+1)
	case *ast.UnaryLenOpExpr:
		c.expr(e.Expr, depth+1)
	case *ast.FunctionExpr:
		c.function(e.Stmts, e.Line(), depth)
	}
}
