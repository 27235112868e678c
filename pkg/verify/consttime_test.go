package verify_test

import (
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSignatureComparesAreConstantTime reads this package's source and fails on any comparison
// that could leak, through its timing, how much of a signature or token matched: == or != on
// byte arrays, on two bytes neither of which is a constant (a hand-rolled early-exit loop), or
// on strings converted from bytes, and calls of bytes.Equal, bytes.Compare or reflect.DeepEqual.
// Secrets and MACs are compared with hmac.Equal or crypto/subtle only. No test of behaviour can
// see such a change (the answers stay right), and timing tests are flaky, so this is checked on
// the code itself.
func TestSignatureComparesAreConstantTime(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	paths, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, p, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	if len(files) < 5 {
		t.Fatalf("found %d source files; run from the package directory", len(files))
	}
	// Imported packages are stubs: type-checking the standard library from source would cost
	// seconds per run (and per mutant under `make mutate`). What is compared here is this
	// package's own values; an expression built from an import has an invalid type, and calls
	// are recognised by the package they name.
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}, Uses: map[*ast.Ident]types.Object{}}
	conf := types.Config{Importer: stubImporter{}, Error: func(error) {}}
	_, _ = conf.Check("hookline/pkg/verify", fset, files, info)
	if len(info.Types) == 0 {
		t.Fatal("type-check found no expressions")
	}
	for _, f := range files {
		for _, why := range timingLeaks(f, info) {
			t.Errorf("%s: %s", fset.Position(why.pos), why.msg)
		}
	}
}

type leak struct {
	pos token.Pos
	msg string
}

// timingLeaks lists the comparisons in f that are not constant-time on secret-shaped operands.
func timingLeaks(f *ast.File, info *types.Info) []leak {
	var out []leak
	isConst := func(e ast.Expr) bool { return info.Types[e].Value != nil }
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BinaryExpr:
			if n.Op != token.EQL && n.Op != token.NEQ {
				return true
			}
			x, y := info.Types[n.X].Type, info.Types[n.Y].Type
			switch {
			case isByteArray(x) || isByteArray(y):
				out = append(out, leak{n.OpPos, "== on byte arrays stops at the first difference; use hmac.Equal"})
			case isByte(x) && isByte(y) && !isConst(n.X) && !isConst(n.Y):
				out = append(out, leak{n.OpPos, "byte-by-byte == with an early exit; use hmac.Equal"})
			case fromBytes(n.X, info) || fromBytes(n.Y, info):
				out = append(out, leak{n.OpPos, "== on strings converted from bytes; use hmac.Equal"})
			}
		case *ast.CallExpr:
			sel, ok := n.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			id, ok := sel.X.(*ast.Ident)
			if !ok {
				return true
			}
			pkg, ok := info.Uses[id].(*types.PkgName)
			if !ok {
				return true
			}
			switch name := pkg.Imported().Path() + "." + sel.Sel.Name; name {
			case "bytes.Equal", "bytes.Compare", "reflect.DeepEqual", "slices.Equal", "strings.Compare":
				out = append(out, leak{n.Pos(), name + " is not constant-time; use hmac.Equal"})
			}
		}
		return true
	})
	return out
}

// stubImporter hands out empty packages, but for the constants this package sizes its MAC
// arrays with: [sha256.Size]byte must stay a byte array to the checker.
type stubImporter struct{}

func (stubImporter) Import(path string) (*types.Package, error) {
	p := types.NewPackage(path, path[strings.LastIndex(path, "/")+1:])
	if path == "crypto/sha256" {
		for name, v := range map[string]int64{"Size": 32, "BlockSize": 64} {
			p.Scope().Insert(types.NewConst(token.NoPos, p, name, types.Typ[types.UntypedInt], constant.MakeInt64(v)))
		}
	}
	p.MarkComplete()
	return p, nil
}

func isByte(t types.Type) bool {
	b, ok := t.(*types.Basic)
	return ok && b.Kind() == types.Byte
}

func isByteArray(t types.Type) bool {
	if t == nil {
		return false
	}
	a, ok := t.Underlying().(*types.Array)
	return ok && isByte(a.Elem().Underlying())
}

// fromBytes reports whether e is string(b) for a byte slice or array b.
func fromBytes(e ast.Expr, info *types.Info) bool {
	call, ok := ast.Unparen(e).(*ast.CallExpr)
	if !ok || len(call.Args) != 1 || !info.Types[call.Fun].IsType() {
		return false
	}
	arg := info.Types[call.Args[0]].Type
	if arg == nil {
		return false
	}
	switch a := arg.Underlying().(type) {
	case *types.Slice:
		return isByte(a.Elem().Underlying())
	case *types.Array:
		return isByte(a.Elem().Underlying())
	}
	return false
}
