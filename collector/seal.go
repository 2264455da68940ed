package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// sealAnswers splits answers into the plain part the database may see and
// the encrypted values of the questions named in direct, wherever they occur
// (at the top level, in repeats, nested repeats or groups), sorted by path.
// answers is not modified: the plain part shares every object and array
// that holds no direct answer with it, and copies the others.
func sealAnswers(keys *Keyring, id string, answers map[string]any, direct map[string]bool) (map[string]any, []SealedValue, error) {
	var sealed []SealedValue
	var walk func(prefix string, m map[string]any) (map[string]any, error)
	// walk returns m itself when nothing under it is direct.
	walk = func(prefix string, m map[string]any) (map[string]any, error) {
		var out map[string]any // a copy of m, once something under m changed
		change := func(k string, v any, drop bool) {
			if out == nil {
				out = make(map[string]any, len(m))
				for k2, v2 := range m {
					out[k2] = v2
				}
			}
			if drop {
				delete(out, k)
			} else {
				out[k] = v
			}
		}
		for k, v := range m {
			if direct[k] {
				if v != nil {
					path := prefix + k
					b, err := json.Marshal(v)
					if err != nil {
						return nil, fmt.Errorf("collector: encode answer at %s: %w", path, err)
					}
					sv, err := keys.seal(path, b, sealAAD(id, path))
					if err != nil {
						return nil, err
					}
					sealed = append(sealed, sv)
				}
				change(k, nil, true)
				continue
			}
			switch x := v.(type) {
			case map[string]any:
				sub, err := walk(prefix+k+".", x)
				if err != nil {
					return nil, err
				}
				if !sameMap(sub, x) {
					change(k, sub, false)
				}
			case []any:
				var items []any // a copy of x, once an item changed
				for i, item := range x {
					im, ok := item.(map[string]any)
					if !ok {
						continue
					}
					sub, err := walk(prefix+k+"["+strconv.Itoa(i)+"].", im)
					if err != nil {
						return nil, err
					}
					if !sameMap(sub, im) {
						if items == nil {
							items = slices.Clone(x)
						}
						items[i] = sub
					}
				}
				if items != nil {
					change(k, items, false)
				}
			}
		}
		if out == nil {
			return m, nil
		}
		return out, nil
	}
	plain, err := walk("", answers)
	if err != nil {
		return nil, nil, err
	}
	if sameMap(plain, answers) {
		plain = maps.Clone(answers)
		if plain == nil {
			plain = map[string]any{}
		}
	}
	slices.SortFunc(sealed, func(a, b SealedValue) int { return strings.Compare(a.Path, b.Path) })
	return plain, sealed, nil
}

// sameMap reports whether a and b are the same map (not equal contents).
func sameMap(a, b map[string]any) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// unsealAnswers decrypts sealed and puts each value back at its path in
// answers, which it modifies and returns.
func unsealAnswers(keys *Keyring, id string, answers map[string]any, sealed []SealedValue) (map[string]any, error) {
	if answers == nil {
		answers = map[string]any{}
	}
	for _, sv := range sealed {
		p, err := keys.open(sv, sealAAD(id, sv.Path))
		if err != nil {
			return nil, fmt.Errorf("submission %s: %w", id, err)
		}
		var v any
		if err := json.Unmarshal(p, &v); err != nil {
			return nil, fmt.Errorf("submission %s: value at %s: not JSON", id, sv.Path)
		}
		if err := setPath(answers, sv.Path, v); err != nil {
			return nil, fmt.Errorf("submission %s: %w", id, err)
		}
	}
	return answers, nil
}

func sealAAD(id, path string) []byte { return []byte("dotm/v1\x00" + id + "\x00" + path) }

// setPath sets v at a path like "members[2].member_name" in m, creating
// intermediate maps (never repeat items) as needed.
func setPath(m map[string]any, path string, v any) error {
	parts := strings.Split(path, ".")
	cur := m
	for i, part := range parts {
		name, idx := part, -1
		if j := strings.IndexByte(part, '['); j >= 0 && strings.HasSuffix(part, "]") {
			n, err := strconv.Atoi(part[j+1 : len(part)-1])
			if err != nil || n < 0 {
				return fmt.Errorf("bad answer path %q", path)
			}
			name, idx = part[:j], n
		}
		last := i == len(parts)-1
		if idx < 0 {
			if last {
				cur[name] = v
				return nil
			}
			next, ok := cur[name].(map[string]any)
			if !ok {
				next = map[string]any{}
				cur[name] = next
			}
			cur = next
			continue
		}
		items, ok := cur[name].([]any)
		if !ok || idx >= len(items) || last {
			return fmt.Errorf("answer path %q does not match the stored repeat", path)
		}
		next, ok := items[idx].(map[string]any)
		if !ok {
			return fmt.Errorf("answer path %q does not match the stored repeat", path)
		}
		cur = next
	}
	return nil
}

// Reencrypt re-encrypts every stored direct answer that is not under keys'
// current key to the current key, and returns how many submissions it
// changed. Values under a key that keys lacks are an error: nothing is lost,
// the submission keeps its old values.
func Reencrypt(ctx context.Context, store Resealer, keys *Keyring) (int, error) {
	n := 0
	err := store.SealedSubmissions(ctx, keys.Current(), func(id string, sealed []SealedValue) error {
		out := make([]SealedValue, len(sealed))
		for i, sv := range sealed {
			if sv.KeyID == keys.Current() {
				out[i] = sv
				continue
			}
			p, err := keys.open(sv, sealAAD(id, sv.Path))
			if err != nil {
				return fmt.Errorf("submission %s: %w", id, err)
			}
			nv, err := keys.seal(sv.Path, p, sealAAD(id, sv.Path))
			clear(p)
			if err != nil {
				return err
			}
			out[i] = nv
		}
		if err := store.Reseal(ctx, id, out); err != nil {
			return err
		}
		n++
		return nil
	})
	return n, err
}
