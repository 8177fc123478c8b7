// The JSON paths the installer's `Defaults` and `Factory` functions set, read from their Go syntax.

package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"strings"
)

// defaultPaths returns the JSON paths `Defaults`/`Factory` assign: `cfg.A.B = ...` statements, and the keyed
// fields of composite literals on the right-hand side (and of the `&Config{...}` Factory returns), recursively.
func defaultPaths(fn *ast.FuncDecl, schema *Schema, pkg string) []string {
	var paths []string
	var literal func(prefix []string, value ast.Expr)
	literal = func(prefix []string, value ast.Expr) {
		if unary, ok := value.(*ast.UnaryExpr); ok {
			value = unary.X
		}
		lit, ok := value.(*ast.CompositeLit)
		if !ok {
			return
		}
		for _, elt := range lit.Elts {
			kv, ok := elt.(*ast.KeyValueExpr)
			if !ok {
				continue
			}
			key, ok := kv.Key.(*ast.Ident)
			if !ok { // a map literal (e.g. a ResourceList): its keys are data, not fields
				continue
			}
			chain := append(append([]string{}, prefix...), key.Name)
			if isZeroLiteral(kv.Value) {
				continue
			}
			if path, ok := jsonPath(schema, pkg+".Config", chain); ok {
				paths = append(paths, path)
				literal(chain, kv.Value)
			}
		}
	}
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.AssignStmt:
			for i, lhs := range x.Lhs {
				chain := selectorChain(lhs)
				if len(chain) > 1 && chain[0] == "cfg" && !(i < len(x.Rhs) && isZeroLiteral(x.Rhs[i])) {
					if path, ok := jsonPath(schema, pkg+".Config", chain[1:]); ok {
						paths = append(paths, path)
						if i < len(x.Rhs) {
							literal(chain[1:], x.Rhs[i])
						}
					}
				}
			}
		case *ast.ReturnStmt:
			for _, result := range x.Results {
				if unary, ok := result.(*ast.UnaryExpr); ok {
					if lit, ok := unary.X.(*ast.CompositeLit); ok && exprString(lit.Type) == "Config" {
						literal(nil, lit)
					}
				}
			}
		}
		return true
	})
	return paths
}

// isZeroLiteral: `""`, `false`, `0` or `nil`, which leave a field as unset as it was.
func isZeroLiteral(expr ast.Expr) bool {
	switch e := expr.(type) {
	case *ast.BasicLit:
		return e.Value == `""` || e.Value == "0"
	case *ast.Ident:
		return e.Name == "false" || e.Name == "nil"
	}
	return false
}

func compact(sorted []string) []string {
	var out []string
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}

func selectorChain(expr ast.Expr) []string {
	switch e := expr.(type) {
	case *ast.SelectorExpr:
		return append(selectorChain(e.X), e.Sel.Name)
	case *ast.Ident:
		return []string{e.Name}
	}
	return nil
}

// jsonPath maps a chain of Go field names to the dotted JSON path, following struct references. Types are
// collected in one pass before defaults are resolved, so a forward reference is looked up lazily.
func jsonPath(schema *Schema, root string, chain []string) (string, bool) {
	typeName := root
	var parts []string
	for _, goName := range chain {
		field, ok := findField(schema, typeName, goName)
		if !ok {
			return "", false
		}
		if field.JSON != "" {
			parts = append(parts, field.JSON)
		}
		t := field.Type
		for t.Kind == "pointer" && t.Elem != nil {
			t = *t.Elem
		}
		typeName = t.Ref
	}
	return strings.Join(parts, "."), true
}

func findField(schema *Schema, typeName, goName string) (Field, bool) {
	for _, f := range schema.Types[typeName] {
		if f.Name == goName {
			return f, true
		}
		if f.Inline && f.Type.Ref != "" {
			if inner, ok := findField(schema, f.Type.Ref, goName); ok {
				return inner, true
			}
		}
	}
	return Field{}, false
}

func exprString(expr ast.Expr) string {
	switch e := expr.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return exprString(e.X) + "." + e.Sel.Name
	case *ast.StarExpr:
		return "*" + exprString(e.X)
	case *ast.ArrayType:
		return "[]" + exprString(e.Elt)
	case *ast.MapType:
		return "map[" + exprString(e.Key) + "]" + exprString(e.Value)
	case *ast.InterfaceType:
		return "interface{}"
	case *ast.UnaryExpr:
		return e.Op.String() + exprString(e.X)
	case *ast.CompositeLit:
		return exprString(e.Type)
	}
	return fmt.Sprintf("%T", expr)
}

func mustParseExpr(text string) ast.Expr {
	expr, err := parser.ParseExpr(text)
	if err != nil {
		panic(err)
	}
	return expr
}
