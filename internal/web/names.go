package web

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"sync"

	"github.com/profileapi/profileapi"
)

// Shaped is a type that decodes itself from the JSON of another type, such
// as a wrapper that tells a member left out from a null one: checkNames
// looks into that type's members.
type Shaped interface {
	JSONShape() reflect.Type
}

var (
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	shapedType      = reflect.TypeFor[Shaped]()
)

// checkNames refuses a member whose name matches a field's only when case
// is ignored, which encoding/json takes for that field: the API's names are
// case-sensitive, as its OpenAPI document says, and "Email" is more likely
// a mistake than a wish. data has decoded into a t already, so it is valid
// JSON of t's shape: a plain scan reads it, a tenth of the cost of
// json.Decoder's tokens on an import's lines.
func checkNames(data []byte, t reflect.Type) error {
	var path [8][]byte
	s := nameScanner{data: data, path: path[:0]}
	return s.value(t)
}

type nameScanner struct {
	data []byte
	i    int
	path [][]byte // the names of the members value is in, for the message
}

// value reads one value, checking the names of the members of every object
// in it that decodes into a struct of t's shape; t is nil where no names
// are known.
func (s *nameScanner) value(t reflect.Type) error {
	t = shapeOf(t)
	s.space()
	if s.i >= len(s.data) {
		return nil
	}
	switch s.data[s.i] {
	case '{':
		s.i++
		var fields map[string]reflect.Type
		var elem reflect.Type
		if t != nil {
			switch t.Kind() {
			case reflect.Struct:
				fields = fieldsOf(t)
			case reflect.Map:
				elem = t.Elem()
			}
		}
		for {
			s.space()
			if s.i >= len(s.data) || s.data[s.i] == '}' {
				s.i++
				return nil
			}
			if s.data[s.i] == ',' {
				s.i++
				s.space()
			}
			name := s.key()
			s.space()
			s.i++ // ':'
			next := elem
			if fields != nil {
				ft, ok := fields[string(name)]
				if !ok {
					for known := range fields {
						if strings.EqualFold(known, string(name)) {
							return profileapi.Errorf(profileapi.EINVALID, "unknown field %q%s: names are case-sensitive; did you mean %q?", name, s.where(), known)
						}
					}
				}
				next = ft
			}
			s.path = append(s.path, name)
			if err := s.value(next); err != nil {
				return err
			}
			s.path = s.path[:len(s.path)-1]
		}
	case '[':
		s.i++
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		s.path = append(s.path, nil)
		for {
			s.space()
			if s.i >= len(s.data) || s.data[s.i] == ']' {
				s.i++
				s.path = s.path[:len(s.path)-1]
				return nil
			}
			if s.data[s.i] == ',' {
				s.i++
			}
			if err := s.value(elem); err != nil {
				return err
			}
		}
	case '"':
		s.str()
	default: // a number, true, false or null
		for s.i < len(s.data) && !strings.ContainsRune(",}] \t\r\n", rune(s.data[s.i])) {
			s.i++
		}
	}
	return nil
}

// where names the object a member is in, "" for the outermost.
func (s *nameScanner) where() string {
	var b strings.Builder
	for _, name := range s.path {
		switch {
		case name == nil:
			b.WriteString("[]")
		case b.Len() > 0:
			b.WriteByte('.')
			fallthrough
		default:
			b.Write(name)
		}
	}
	if b.Len() == 0 {
		return ""
	}
	return " in " + b.String()
}

func (s *nameScanner) space() {
	for s.i < len(s.data) && (s.data[s.i] == ' ' || s.data[s.i] == '\t' || s.data[s.i] == '\r' || s.data[s.i] == '\n') {
		s.i++
	}
}

// str skips a string, returning it as written, quotes included.
func (s *nameScanner) str() []byte {
	start := s.i
	for s.i++; s.i < len(s.data) && s.data[s.i] != '"'; s.i++ {
		if s.data[s.i] == '\\' {
			s.i++
		}
	}
	s.i++
	return s.data[min(start, len(s.data)):min(s.i, len(s.data))]
}

// key reads a member's name, unescaped as encoding/json reads it.
func (s *nameScanner) key() []byte {
	raw := s.str()
	if len(raw) >= 2 && bytes.IndexByte(raw, '\\') < 0 {
		return raw[1 : len(raw)-1]
	}
	var name string
	_ = json.Unmarshal(raw, &name)
	return []byte(name)
}

// shapes holds shapeOf's answers.
var shapes sync.Map // reflect.Type → reflect.Type, or nil

// shapeOf is the type whose members t's JSON has: t's element for a
// pointer, the shape of a Shaped, nil for a type that decodes itself.
func shapeOf(t reflect.Type) reflect.Type {
	if t == nil {
		return nil
	}
	if shape, ok := shapes.Load(t); ok {
		shape, _ := shape.(reflect.Type)
		return shape
	}
	shape := findShape(t)
	shapes.Store(t, shape)
	return shape
}

func findShape(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Implements(shapedType) || reflect.PointerTo(t).Implements(shapedType) {
		return shapeOf(reflect.New(t).Interface().(Shaped).JSONShape()) // *t has every method
	}
	if t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil // its own decoder: its members are its business
	}
	return t
}

// fieldCache holds fieldsOf's answers: a body's types are few.
var fieldCache sync.Map // reflect.Type → map[string]reflect.Type

// fieldsOf maps the JSON names of t's fields, those of embedded structs
// included, to their types.
func fieldsOf(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	fields := make(map[string]reflect.Type)
	for f := range t.Fields() {
		if !f.IsExported() && !f.Anonymous {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		if f.Anonymous && name == "" {
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for n, typ := range fieldsOf(ft) {
					if _, ok := fields[n]; !ok {
						fields[n] = typ
					}
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = ft
	}
	fieldCache.Store(t, fields)
	return fields
}
