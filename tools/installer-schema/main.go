// Command installer-schema reads the Go source of Gitpod's installer config v1 (the `config.go` and
// `experimental/experimental.go` of gitpod-io/gitpod at one revision, given as files) and prints a
// machine-readable schema of it as JSON: for every struct, each field's JSON name, its type, whether it is inlined,
// and its `validate` tag; plus the JSON paths that the installer's `Defaults` and `Factory` functions set before a
// config file is merged over them. It parses the source (go/parser); it never builds or runs Gitpod's code.
//
// Usage: installer-schema -revision REV -commit SHA config.go experimental.go > schema.json
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// Type describes a field's Go type as the JSON decoder sees it.
type Type struct {
	Kind string `json:"kind"`           // scalar | struct | pointer | slice | map | opaque
	Go   string `json:"go,omitempty"`   // the Go type as written
	Ref  string `json:"ref,omitempty"`  // struct: "<package>.<Type>"
	Elem *Type  `json:"elem,omitempty"` // pointer, slice, map values
}

// Field is one struct field as encoding/json sees it.
type Field struct {
	Name     string `json:"name"`     // Go field name
	JSON     string `json:"json"`     // JSON key ("" when inlined)
	Inline   bool   `json:"inline"`   // embedded/`,inline`: its fields belong to the parent object
	Validate string `json:"validate"` // the raw `validate` tag
	Type     Type   `json:"type"`
}

// Schema is the whole output.
type Schema struct {
	Source   string              `json:"source"`
	Revision string              `json:"revision"`
	Commit   string              `json:"commit"`
	Root     string              `json:"root"`
	Loader   map[string]string   `json:"loader"`
	Types    map[string][]Field  `json:"types"`
	Enums    map[string][]string `json:"enums"`
	Defaults []string            `json:"defaults"`
}

// Scalars whose JSON form is a string or number although their Go type is a struct or named type from another
// package (they implement their own UnmarshalJSON).
var externalScalars = map[string]bool{
	"resource.Quantity": true, "util.Duration": true, "intstr.IntOrString": true, "metav1.Duration": true,
	"corev1.ServiceType": true, "corev1.ResourceName": true, "corev1.PullPolicy": true, "time.Duration": true,
}

// External structs the config embeds, described with the JSON keys of the Kubernetes API types
// (k8s.io/apimachinery/pkg/apis/meta/v1), so strict decoding into them can be checked too.
var externalStructs = map[string][]Field{
	"metav1.TypeMeta": {
		{Name: "Kind", JSON: "kind", Type: Type{Kind: "scalar", Go: "string"}},
		{Name: "APIVersion", JSON: "apiVersion", Type: Type{Kind: "scalar", Go: "string"}},
	},
	"metav1.ObjectMeta": {
		{Name: "Name", JSON: "name", Type: Type{Kind: "scalar", Go: "string"}},
		{Name: "GenerateName", JSON: "generateName", Type: Type{Kind: "scalar", Go: "string"}},
		{Name: "Namespace", JSON: "namespace", Type: Type{Kind: "scalar", Go: "string"}},
		{Name: "SelfLink", JSON: "selfLink", Type: Type{Kind: "scalar", Go: "string"}},
		{Name: "UID", JSON: "uid", Type: Type{Kind: "scalar", Go: "string"}},
		{Name: "ResourceVersion", JSON: "resourceVersion", Type: Type{Kind: "scalar", Go: "string"}},
		{Name: "Generation", JSON: "generation", Type: Type{Kind: "scalar", Go: "int64"}},
		{Name: "CreationTimestamp", JSON: "creationTimestamp", Type: Type{Kind: "scalar", Go: "metav1.Time"}},
		{Name: "DeletionTimestamp", JSON: "deletionTimestamp", Type: Type{Kind: "scalar", Go: "metav1.Time"}},
		{Name: "DeletionGracePeriodSeconds", JSON: "deletionGracePeriodSeconds", Type: Type{Kind: "scalar", Go: "int64"}},
		{Name: "Labels", JSON: "labels", Type: Type{Kind: "map", Elem: &Type{Kind: "scalar", Go: "string"}}},
		{Name: "Annotations", JSON: "annotations", Type: Type{Kind: "map", Elem: &Type{Kind: "scalar", Go: "string"}}},
		{Name: "OwnerReferences", JSON: "ownerReferences", Type: Type{Kind: "opaque", Go: "[]metav1.OwnerReference"}},
		{Name: "Finalizers", JSON: "finalizers", Type: Type{Kind: "slice", Elem: &Type{Kind: "scalar", Go: "string"}}},
		{Name: "ManagedFields", JSON: "managedFields", Type: Type{Kind: "opaque", Go: "[]metav1.ManagedFieldsEntry"}},
	},
}

var basicScalars = map[string]bool{
	"string": true, "bool": true, "int": true, "int8": true, "int16": true, "int32": true, "int64": true,
	"uint": true, "uint8": true, "uint16": true, "uint32": true, "uint64": true, "float32": true, "float64": true,
}

type pkgSource struct {
	name  string // the package's own name ("config", "experimental")
	file  *ast.File
	alias map[string]string // import alias -> package name when it is one of the parsed packages
}

func main() {
	revision := flag.String("revision", "", "gitpod-io/gitpod tag or branch the files were read at")
	commit := flag.String("commit", "", "the commit SHA of that revision")
	flag.Parse()
	if flag.NArg() < 1 || *revision == "" || *commit == "" {
		fmt.Fprintln(os.Stderr, "usage: installer-schema -revision REV -commit SHA config.go [experimental.go ...]")
		os.Exit(2)
	}
	fset := token.NewFileSet()
	var sources []pkgSource
	for _, path := range flag.Args() {
		file, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			fmt.Fprintf(os.Stderr, "installer-schema: %v\n", err)
			os.Exit(1)
		}
		sources = append(sources, pkgSource{name: file.Name.Name, file: file})
	}
	parsed := map[string]bool{}
	for _, s := range sources {
		parsed[s.name] = true
	}
	for i := range sources {
		sources[i].alias = map[string]string{}
		for _, imp := range sources[i].file.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			last := path[strings.LastIndex(path, "/")+1:]
			name := last
			if imp.Name != nil {
				name = imp.Name.Name
			}
			if parsed[last] && strings.Contains(path, "installer/pkg/config/v1") {
				sources[i].alias[name] = last
			}
		}
	}

	schema := Schema{
		Source:   "github.com/gitpod-io/gitpod install/installer/pkg/config/v1",
		Revision: *revision,
		Commit:   *commit,
		Root:     "config.Config",
		Loader: map[string]string{
			"unmarshal": "sigs.k8s.io/yaml.UnmarshalStrict over the defaults (unknown keys and duplicate keys are errors)",
			"validate":  "github.com/go-playground/validator/v10 Struct(cfg) with the custom validations of validation.go",
		},
		Types: map[string][]Field{},
		Enums: map[string][]string{},
	}
	for _, src := range sources {
		collect(src, &schema)
	}
	for name, fields := range externalStructs {
		schema.Types[name] = fields
	}
	for _, src := range sources {
		collectDefaults(src, &schema)
	}
	sort.Strings(schema.Defaults)
	schema.Defaults = compact(schema.Defaults)
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", "  ")
	if err := out.Encode(schema); err != nil {
		fmt.Fprintf(os.Stderr, "installer-schema: %v\n", err)
		os.Exit(1)
	}
}

// collect adds every struct type, every string enum (typed constants) and the default paths of one file.
func collect(src pkgSource, schema *Schema) {
	named := map[string]string{} // named non-struct types -> underlying Go type text
	for _, decl := range src.file.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.TYPE {
			continue
		}
		for _, spec := range gen.Specs {
			ts := spec.(*ast.TypeSpec)
			if _, isStruct := ts.Type.(*ast.StructType); !isStruct {
				named[ts.Name.Name] = exprString(ts.Type)
			}
		}
	}
	for _, decl := range src.file.Decls {
		switch d := decl.(type) {
		case *ast.GenDecl:
			switch d.Tok {
			case token.TYPE:
				for _, spec := range d.Specs {
					ts := spec.(*ast.TypeSpec)
					if st, ok := ts.Type.(*ast.StructType); ok {
						schema.Types[src.name+"."+ts.Name.Name] = fields(src, st, named)
					}
				}
			case token.CONST:
				for _, spec := range d.Specs {
					vs := spec.(*ast.ValueSpec)
					ident, ok := vs.Type.(*ast.Ident)
					if !ok || len(vs.Values) != 1 {
						continue
					}
					if lit, ok := vs.Values[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						value, _ := strconv.Unquote(lit.Value)
						key := src.name + "." + ident.Name
						schema.Enums[key] = append(schema.Enums[key], value)
					}
				}
			}
		}
	}
}

// collectDefaults adds the JSON paths the config package's `Defaults` and `Factory` set (after every type is known).
func collectDefaults(src pkgSource, schema *Schema) {
	for _, decl := range src.file.Decls {
		if d, ok := decl.(*ast.FuncDecl); ok && d.Recv != nil && src.name == "config" &&
			(d.Name.Name == "Defaults" || d.Name.Name == "Factory") {
			schema.Defaults = append(schema.Defaults, defaultPaths(d, schema, src.name)...)
		}
	}
}

func fields(src pkgSource, st *ast.StructType, named map[string]string) []Field {
	var out []Field
	for _, f := range st.Fields.List {
		tag := ""
		if f.Tag != nil {
			tag, _ = strconv.Unquote(f.Tag.Value)
		}
		st := reflect.StructTag(tag)
		jsonTag, hasJSON := st.Lookup("json")
		jsonName := strings.Split(jsonTag, ",")[0]
		if jsonName == "-" {
			continue
		}
		typ := describe(src, f.Type, named)
		if len(f.Names) == 0 { // embedded
			inline := !hasJSON || jsonName == "" || strings.Contains(jsonTag, "inline")
			out = append(out, Field{Name: exprString(f.Type), JSON: jsonNameOr(jsonName, inline, exprString(f.Type)),
				Inline: inline, Validate: st.Get("validate"), Type: typ})
			continue
		}
		for _, name := range f.Names {
			if !name.IsExported() {
				continue
			}
			key := jsonName
			inline := strings.Contains(jsonTag, "inline") && jsonName == ""
			if key == "" && !inline {
				key = name.Name // encoding/json uses the field name when the tag names none
			}
			out = append(out, Field{Name: name.Name, JSON: key, Inline: inline, Validate: st.Get("validate"), Type: typ})
		}
	}
	return out
}

func jsonNameOr(name string, inline bool, goType string) string {
	if inline {
		return ""
	}
	if name != "" {
		return name
	}
	return goType[strings.LastIndex(goType, ".")+1:]
}

func describe(src pkgSource, expr ast.Expr, named map[string]string) Type {
	text := exprString(expr)
	switch e := expr.(type) {
	case *ast.StarExpr:
		elem := describe(src, e.X, named)
		return Type{Kind: "pointer", Go: text, Elem: &elem}
	case *ast.ArrayType:
		elem := describe(src, e.Elt, named)
		return Type{Kind: "slice", Go: text, Elem: &elem}
	case *ast.MapType:
		elem := describe(src, e.Value, named)
		return Type{Kind: "map", Go: text, Elem: &elem}
	case *ast.InterfaceType:
		return Type{Kind: "opaque", Go: text}
	case *ast.Ident:
		if basicScalars[e.Name] {
			return Type{Kind: "scalar", Go: text}
		}
		if under, ok := named[e.Name]; ok {
			if basicScalars[under] {
				return Type{Kind: "scalar", Go: src.name + "." + e.Name}
			}
			// A named map or slice (e.g. `type ServiceAnnotations map[string]string`).
			t := describe(src, mustParseExpr(under), named)
			t.Go = src.name + "." + e.Name
			return t
		}
		return Type{Kind: "struct", Go: text, Ref: src.name + "." + e.Name}
	case *ast.SelectorExpr:
		pkg := exprString(e.X)
		if target, ok := src.alias[pkg]; ok {
			return Type{Kind: "struct", Go: text, Ref: target + "." + e.Sel.Name}
		}
		if _, ok := externalStructs[text]; ok {
			return Type{Kind: "struct", Go: text, Ref: text}
		}
		if externalScalars[text] {
			return Type{Kind: "scalar", Go: text}
		}
		if text == "corev1.ResourceList" {
			return Type{Kind: "map", Go: text, Elem: &Type{Kind: "scalar", Go: "resource.Quantity"}}
		}
		return Type{Kind: "opaque", Go: text}
	}
	return Type{Kind: "opaque", Go: text}
}
