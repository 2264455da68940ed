package dotm

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// SealAnswers encrypts the answers to the questions named in direct,
// wherever they occur (at the top level, in repeats, nested repeats or
// groups), and removes them from answers, which it modifies: what is left
// is the plain part the database may see. The sealed values come sorted by
// path. The caller owns answers (the validator's fresh normalized copy), so
// nothing is copied on this path, which every stored submission takes.
func SealAnswers(keys *Keyring, id string, answers map[string]any, direct map[string]bool) ([]SealedValue, error) {
	var sealed []SealedValue
	var walk func(prefix string, m map[string]any) error
	walk = func(prefix string, m map[string]any) error {
		for k, v := range m {
			seg := pathSegment(k)
			if direct[k] {
				delete(m, k) // deleting the current key during range is allowed
				if v == nil {
					continue
				}
				path := prefix + seg
				b, err := json.Marshal(v)
				if err != nil {
					return fmt.Errorf("dotm: encode answer at %s: %w", path, err)
				}
				sv, err := keys.Seal(path, b, sealAAD(id, path))
				if err != nil {
					return err
				}
				sealed = append(sealed, sv)
				continue
			}
			switch x := v.(type) {
			case map[string]any:
				if err := walk(prefix+seg+".", x); err != nil {
					return err
				}
			case []any:
				for i, item := range x {
					if im, ok := item.(map[string]any); ok {
						if err := walk(prefix+seg+"["+strconv.Itoa(i)+"].", im); err != nil {
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

// UnsealAnswers decrypts sealed and puts each value back at its path in
// answers, which it modifies and returns.
func UnsealAnswers(keys *Keyring, id string, answers map[string]any, sealed []SealedValue) (map[string]any, error) {
	if answers == nil {
		answers = map[string]any{}
	}
	for _, sv := range sealed {
		p, err := keys.Open(sv, sealAAD(id, sv.Path))
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

// pathSegment is key as one segment of an answer path: question names are
// used as they are; a key holding '.', '[', ']' or '\' (which no question
// name does, but answers of free-form types may) has those characters
// escaped with '\', so that every path reads back to the keys it was made
// of.
func pathSegment(key string) string {
	if !strings.ContainsAny(key, `.[]\`) {
		return key
	}
	var b strings.Builder
	for _, r := range key {
		if r == '.' || r == '[' || r == ']' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// pathStep is one step of an answer path: a key, and an index into the
// array under it (-1 for none).
type pathStep struct {
	key string
	idx int
}

// parsePath reads a path made of pathSegment keys joined by '.', each
// optionally followed by "[n]": "members[2].member_name".
func parsePath(path string) ([]pathStep, error) {
	bad := fmt.Errorf("bad answer path %q", path)
	var steps []pathStep
	var key strings.Builder
	idx := -1
	end := func() {
		steps = append(steps, pathStep{key: key.String(), idx: idx})
		key.Reset()
		idx = -1
	}
	for i := 0; i < len(path); i++ {
		c := path[i]
		switch {
		case c == '\\':
			if i+1 == len(path) || idx >= 0 {
				return nil, bad
			}
			i++
			key.WriteByte(path[i])
		case c == '.':
			end()
		case c == '[':
			j := strings.IndexByte(path[i:], ']')
			if j < 0 || idx >= 0 {
				return nil, bad
			}
			n, err := strconv.Atoi(path[i+1 : i+j])
			if err != nil || n < 0 {
				return nil, bad
			}
			idx = n
			i += j
			if i+1 < len(path) && path[i+1] != '.' {
				return nil, bad
			}
		case c == ']' || idx >= 0:
			return nil, bad
		default:
			key.WriteByte(c)
		}
	}
	end()
	return steps, nil
}

// setPath sets v at a path like "members[2].member_name" in m, creating
// intermediate maps (never repeat items) as needed.
func setPath(m map[string]any, path string, v any) error {
	steps, err := parsePath(path)
	if err != nil {
		return err
	}
	cur := m
	for i, st := range steps {
		last := i == len(steps)-1
		if st.idx < 0 {
			if last {
				cur[st.key] = v
				return nil
			}
			next, ok := cur[st.key].(map[string]any)
			if !ok {
				next = map[string]any{}
				cur[st.key] = next
			}
			cur = next
			continue
		}
		items, ok := cur[st.key].([]any)
		if !ok || st.idx >= len(items) || last {
			return fmt.Errorf("answer path %q does not match the stored repeat", path)
		}
		next, ok := items[st.idx].(map[string]any)
		if !ok {
			return fmt.Errorf("answer path %q does not match the stored repeat", path)
		}
		cur = next
	}
	return nil
}

// Reencrypt re-encrypts every stored direct answer and every attachment's
// key that is not under keys' current key to the current key, and returns
// how many submissions and attachments it changed. Values under a key that
// keys lacks are an error: nothing is lost, each keeps its old value.
// An attachment's chunks stay as they are: only its own key is sealed anew.
func Reencrypt(ctx context.Context, store Resealer, keys *Keyring) (int, error) {
	n := 0
	err := store.SealedAttachments(ctx, keys.Current(), func(a Attachment) error {
		key, err := keys.Open(a.Key, attachmentAAD(a))
		if err != nil {
			return fmt.Errorf("attachment %s of submission %s: %w", a.Name, a.Submission, err)
		}
		nk, err := keys.Seal(a.Key.Path, key, attachmentAAD(a))
		clear(key)
		if err != nil {
			return err
		}
		if err := store.ResealAttachment(ctx, a, nk); err != nil {
			return err
		}
		n++
		return nil
	})
	if err != nil {
		return n, err
	}
	err = store.SealedSubmissions(ctx, keys.Current(), func(id string, sealed []SealedValue) error {
		out := make([]SealedValue, len(sealed))
		for i, sv := range sealed {
			if sv.KeyID == keys.Current() {
				out[i] = sv
				continue
			}
			p, err := keys.Open(sv, sealAAD(id, sv.Path))
			if err != nil {
				return fmt.Errorf("submission %s: %w", id, err)
			}
			nv, err := keys.Seal(sv.Path, p, sealAAD(id, sv.Path))
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
