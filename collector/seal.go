package collector

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// sealAnswers encrypts the answers to the questions named in direct,
// wherever they occur (at the top level, in repeats, nested repeats or
// groups), and removes them from answers, which it modifies: what is left
// is the plain part the database may see. The sealed values come sorted by
// path. The caller owns answers (the validator's fresh normalized copy), so
// nothing is copied on this path, which every stored submission takes.
func sealAnswers(keys *Keyring, id string, answers map[string]any, direct map[string]bool) ([]SealedValue, error) {
	var sealed []SealedValue
	var walk func(prefix string, m map[string]any) error
	walk = func(prefix string, m map[string]any) error {
		for k, v := range m {
			if direct[k] {
				delete(m, k) // deleting the current key during range is allowed
				if v == nil {
					continue
				}
				path := prefix + k
				b, err := json.Marshal(v)
				if err != nil {
					return fmt.Errorf("collector: encode answer at %s: %w", path, err)
				}
				sv, err := keys.seal(path, b, sealAAD(id, path))
				if err != nil {
					return err
				}
				sealed = append(sealed, sv)
				continue
			}
			switch x := v.(type) {
			case map[string]any:
				if err := walk(prefix+k+".", x); err != nil {
					return err
				}
			case []any:
				for i, item := range x {
					if im, ok := item.(map[string]any); ok {
						if err := walk(prefix+k+"["+strconv.Itoa(i)+"].", im); err != nil {
							return err
						}
					}
				}
			}
		}
		return nil
	}
	if err := walk("", answers); err != nil {
		return nil, err
	}
	slices.SortFunc(sealed, func(a, b SealedValue) int { return strings.Compare(a.Path, b.Path) })
	return sealed, nil
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
