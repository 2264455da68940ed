package faults

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dotm-survey/dotm/collector"
	"github.com/dotm-survey/dotm/internal/testutil"
	"github.com/dotm-survey/dotm/loadtest"
)

// badInput is one malformed request body with the content type it is sent as.
type badInput struct {
	name  string
	ctype string
	body  []byte
}

// badInputs is the corpus: every kind of garbage a client, a broken tablet or
// an attacker could send. big adds the 10 MB bodies.
func badInputs(big bool) []badInput {
	deep := strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)
	deepObj := strings.Repeat(`{"a":`, 20_000) + "1" + strings.Repeat("}", 20_000)
	in := []badInput{
		{"empty body", "application/json", nil},
		{"truncated object", "application/json", []byte(`{"instance_id":`)},
		{"broken syntax", "application/json", []byte(`{]`)},
		{"bare word", "application/json", []byte(`nul`)},
		{"two values", "application/json", []byte(`{} {}`)},
		{"trailing garbage", "application/json", []byte(`{}xyz`)},
		{"array instead of object", "application/json", []byte(`[]`)},
		{"string instead of object", "application/json", []byte(`"hello"`)},
		{"number instead of object", "application/json", []byte(`12`)},
		{"null", "application/json", []byte(`null`)},
		{"wrong field types", "application/json", []byte(`{"instance_id":5,"form_id":true,"answers":"x","submissions":{},"name":[],"role":1,"decision":7,"id":{}}`)},
		{"huge number", "application/json", []byte(`{"instance_id":"0b8f4a52-3c1e-4f7a-9d56-2f1b7c9e8a01","form_id":"dotm_household","form_version":"2025.1","started_at":"2025-03-14T09:02:11Z","ended_at":"2025-03-14T10:05:47Z","answers":{"n_members":1e400}}`)},
		{"huge integer", "application/json", []byte(`{"count":123456789012345678901234567890123456789,"n":-1e999}`)},
		{"deep array nesting", "application/json", []byte(deep)},
		{"deep object nesting", "application/json", []byte(deepObj)},
		{"deep nesting in answers", "application/json", []byte(`{"instance_id":"0b8f4a52-3c1e-4f7a-9d56-2f1b7c9e8a02","form_id":"dotm_household","form_version":"2025.1","started_at":"2025-03-14T09:02:11Z","ended_at":"2025-03-14T10:05:47Z","answers":{"x":` + deepObj + `}}`)},
		{"invalid UTF-8", "application/json", []byte("{\"name\":\"\xff\xfe\xfd\",\"id\":\"a\xc3\x28\",\"country\":\"\xed\xa0\x80\",\"languages\":[\"\xff\"],\"role\":\"enumerator\"}")},
		{"NUL bytes", "application/json", []byte("{\"name\":\"a\x00b\",\"id\":\"x\\u0000y\"}")},
		{"unknown fields", "application/json", []byte(`{"bogus":1,"__proto__":{"admin":true},"$where":"1"}`)},
		{"operator injection", "application/json", []byte(`{"id":{"$gt":""},"name":{"$ne":null},"instance_id":{"$regex":".*"}}`)},
		{"text/plain", "text/plain", []byte(`{}`)},
		{"xml", "application/xml", []byte(`<a/>`)},
		{"form encoded", "application/x-www-form-urlencoded", []byte(`a=1&b=2`)},
		{"multipart", "multipart/form-data; boundary=x", []byte("--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--x--\r\n")},
		{"no content type", "", []byte(`{"x":1}`)},
		{"malformed content type", "application/json;;;=;", []byte(`{}`)},
		{"UTF-16 JSON", "application/json; charset=utf-16", []byte("\xff\xfe{\x00}\x00")},
		{"batch of 501", "application/json", []byte(`{"submissions":[` + strings.TrimSuffix(strings.Repeat(`{},`, 501), ",") + `]}`)},
		{"batch of nulls", "application/json", []byte(`{"submissions":[null,1,"x",[],{}]}`)},
	}
	if big {
		ten := strings.Repeat("a", 10<<20)
		in = append(in,
			badInput{"10 MB string", "application/json", []byte(`{"name":"` + ten + `","id":"` + ten[:100] + `","answers":{"x":"` + ten[:1000] + `"}}`)},
			badInput{"10 MB string in a batch item", "application/json", []byte(`{"submissions":[{"instance_id":"0b8f4a52-3c1e-4f7a-9d56-2f1b7c9e8a03","answers":{"x":"` + ten + `"}}]}`)},
			badInput{"10 MB of whitespace", "application/json", append(bytes.Repeat([]byte(" "), 10<<20), '{', '}')},
		)
	}
	return in
}

// postRoutes lists the router's POST routes with their path parameters
// filled in.
func postRoutes(t *testing.T, fill map[string]string) []string {
	t.Helper()
	var paths []string
	for _, r := range collector.NewServer(collector.Deps{}).Routes() {
		if r.Method != http.MethodPost {
			continue
		}
		parts := strings.Split(r.Path, "/")
		for i, p := range parts {
			if strings.HasPrefix(p, ":") || strings.HasPrefix(p, "*") {
				v, ok := fill[p[1:]]
				if !ok {
					t.Fatalf("route %s has parameter %s that the test does not know: add it to the fill table", r.Path, p)
				}
				parts[i] = v
			}
		}
		paths = append(paths, strings.Join(parts, "/"))
	}
	if len(paths) < 5 {
		t.Fatalf("only %d POST routes: %v", len(paths), paths)
	}
	return paths
}

// TestBadInputNeverServerError sends the corpus to every POST route of a
// running dotm serve, as each role that gets past authorization: every
// answer must be 4xx problem+json, never 5xx, and the server must survive.
func TestBadInputNeverServerError(t *testing.T) {
	ctx := context.Background()
	data := filepath.Join(t.TempDir(), "data")
	admin := addUser(t, data, "admin", "admin")
	addr := freeAddr(t)
	base := "http://" + addr
	logs := &testutil.Buffer{}
	srv := startServe(t, logs, addr, data)
	enu, err := loadtest.Setup(ctx, nil, base, admin, "bad", "enu", 1)
	if err != nil {
		t.Fatal(err)
	}
	var sup struct{ Token string }
	api(t, http.MethodPost, base+"/api/v1/users", admin, map[string]any{"name": "sup", "role": "supervisor", "surveys": []string{"bad"}}, &sup)
	// One stored submission, so that routes on a submission id reach their body.
	g := loadtest.NewGenerator(5, 0)
	env := g.Next()
	if st := api(t, http.MethodPost, base+"/api/v1/submissions", enu[0], env, nil); st != http.StatusCreated {
		t.Fatalf("post a valid submission: %d", st)
	}
	tokens := map[string]string{"admin": admin, "supervisor": sup.Token, "enumerator": enu[0]}
	fill := map[string]string{"survey": "bad", "id": env.InstanceID, "name": "enu-001", "form": loadtest.FormID(), "version": loadtest.FormVersion(), "psu": "psu-1",
		"token": enu[0]} // OpenRosa's /v1/key/{token}: the URL's token is the caller

	client := &http.Client{Timeout: 2 * time.Minute}
	send := func(path, token string, in badInput) (int, string, string) {
		req, _ := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(in.body))
		if in.ctype != "" {
			req.Header.Set("Content-Type", in.ctype)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("POST %s (%s): %v\nserver output:\n%s", path, in.name, err, tail(logs.String(), 4000))
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	corpus := badInputs(true)
	checked := 0
	for _, path := range postRoutes(t, fill) {
		// The roles that pass the route's authorization.
		var roles []string
		for _, role := range []string{"admin", "supervisor", "enumerator"} {
			if st, _, _ := send(path, tokens[role], badInput{"probe", "application/json", []byte(`{}`)}); st != http.StatusForbidden {
				roles = append(roles, role)
			}
		}
		if len(roles) == 0 {
			t.Errorf("POST %s: no role gets past authorization", path)
			continue
		}
		for _, role := range roles {
			for _, in := range corpus {
				st, ct, body := send(path, tokens[role], in)
				checked++
				if st == http.StatusOK && strings.HasSuffix(path, "/submissions/batch") {
					// A batch answers 200 with one result per item; bad
					// items must all be refused.
					var res struct{ Counts map[string]int }
					if err := json.Unmarshal([]byte(body), &res); err != nil || res.Counts["created"]+res.Counts["duplicate"] > 0 || res.Counts["invalid"] == 0 {
						t.Errorf("POST %s as %s, %s: 200 with %s", path, role, in.name, tail(body, 300))
					}
					continue
				}
				if st < 400 || st >= 500 {
					t.Errorf("POST %s as %s, %s: status %d, want 4xx\n%s", path, role, in.name, st, tail(body, 300))
					continue
				}
				// OpenRosa routes answer errors as OpenRosa XML, which Collect shows.
				openRosa := strings.HasPrefix(path, "/v1/key/") || strings.HasPrefix(path, "/openrosa/")
				if openRosa && !strings.HasPrefix(ct, "text/xml") {
					t.Errorf("POST %s as %s, %s: %d with content type %q, want OpenRosa XML", path, role, in.name, st, ct)
				}
				if !openRosa && !strings.HasPrefix(ct, "application/problem+json") {
					t.Errorf("POST %s as %s, %s: %d with content type %q, want problem+json", path, role, in.name, st, ct)
				}
			}
		}
	}
	// Invalid UTF-8 inside bodies that are otherwise valid for their route:
	// Go's decoder would turn it into U+FFFD silently and store it.
	for _, c := range []struct{ path, role, body string }{
		{"/api/v1/surveys", "admin", "{\"id\":\"utf8-bad\",\"country\":\"Ghana\xff\",\"languages\":[\"en\"]}"},
		{"/api/v1/users", "admin", "{\"name\":\"utf8bad\",\"role\":\"enumerator\",\"surveys\":[\"bad\xc3\x28\"]}"},
		{"/api/v1/submissions/" + env.InstanceID + "/review", "supervisor", "{\"decision\":\"reject\",\"comment\":\"bad \xed\xa0\x80 text\"}"},
	} {
		st, ct, body := send(c.path, tokens[c.role], badInput{"invalid UTF-8", "application/json", []byte(c.body)})
		checked++
		if st < 400 || st >= 500 || !strings.HasPrefix(ct, "application/problem+json") {
			t.Errorf("POST %s as %s with invalid UTF-8 in a valid body: %d %s\n%s", c.path, c.role, st, ct, tail(body, 300))
		}
	}
	t.Logf("%d bad requests sent", checked)
	if st, _, _, _ := timedRequest(t, http.MethodGet, base+"/healthz", "", nil); st != http.StatusOK {
		t.Fatalf("server unhealthy after the corpus: %d", st)
	}
	if strings.Contains(logs.String(), "panic") {
		t.Errorf("the server log mentions a panic:\n%s", tail(logs.String(), 4000))
	}
	srv.stop(t)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return fmt.Sprintf("…%s", s[len(s)-n:])
}

// TestOversizeBodySentFirst: a client that writes its whole body before it
// reads (Python urllib and requests do) gets the 413, not a connection
// reset, for a declared length and for a chunked body over --max-body.
func TestOversizeBodySentFirst(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	admin := addUser(t, data, "admin", "admin")
	addr := freeAddr(t)
	logs := &testutil.Buffer{}
	srv := startServe(t, logs, addr, data, "--max-body", "4000000")
	body := bytes.Repeat([]byte("x"), 7_000_000)
	for _, chunked := range []bool{false, true} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		var req bytes.Buffer
		fmt.Fprintf(&req, "POST /api/v1/users HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n", addr, admin)
		if chunked {
			req.WriteString("Transfer-Encoding: chunked\r\n\r\n")
			for off := 0; off < len(body); off += 64 << 10 {
				part := body[off:min(off+64<<10, len(body))]
				fmt.Fprintf(&req, "%x\r\n%s\r\n", len(part), part)
			}
			req.WriteString("0\r\n\r\n")
		} else {
			fmt.Fprintf(&req, "Content-Length: %d\r\n\r\n", len(body))
			req.Write(body)
		}
		conn.SetDeadline(time.Now().Add(60 * time.Second))
		if _, err := conn.Write(req.Bytes()); err != nil {
			t.Errorf("chunked=%v: writing the body: %v", chunked, err)
			conn.Close()
			continue
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Errorf("chunked=%v: reading the answer after sending the whole body: %v", chunked, err)
			conn.Close()
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		conn.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("chunked=%v: %d %q: %s", chunked, resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
	}
	srv.stop(t)
}

// vmHWM is the peak resident set of process pid (kB), from /proc.
func vmHWM(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

// TestConcurrentLargeBatchesMemory: eight clients post 7 MB batches at
// once; the server reads at most --max-inflight-bytes of them at a time,
// answers the others 503 with Retry-After, and its peak RSS stays under a
// ceiling.
func TestConcurrentLargeBatchesMemory(t *testing.T) {
	ctx := context.Background()
	data := filepath.Join(t.TempDir(), "data")
	admin := addUser(t, data, "admin", "admin")
	addr := freeAddr(t)
	base := "http://" + addr
	logs := &testutil.Buffer{}
	srv := startServe(t, logs, addr, data, "--max-body", "8000000")
	enu, err := loadtest.Setup(ctx, nil, base, admin, "mem", "enu", 1)
	if err != nil {
		t.Fatal(err)
	}
	// Envelopes that decode fully and fail validation (unknown answers):
	// every byte is parsed into maps.
	g := loadtest.NewGenerator(9, 0)
	var subs []any
	size := 0
	for size < 7_000_000 && len(subs) < collector.MaxBatch {
		e := g.Next()
		for k := 0; k < 400; k++ {
			e.Answers[fmt.Sprintf("zz_%d", k)] = []any{"a", 1.5, map[string]any{"x": "y"}}
		}
		b, _ := json.Marshal(e)
		size += len(b)
		subs = append(subs, json.RawMessage(b))
	}
	body, _ := json.Marshal(map[string]any{"submissions": subs})
	base0 := vmHWM(t, srv.cmd.Process.Pid)
	type res struct {
		status int
		retry  string
	}
	out := make(chan res, 8)
	for range 8 {
		go func() {
			req, _ := http.NewRequest("POST", base+"/api/v1/submissions/batch", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+enu[0])
			req.Header.Set("Content-Type", "application/json")
			resp, err := (&http.Client{Timeout: 2 * time.Minute}).Do(req)
			if err != nil {
				out <- res{}
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			out <- res{resp.StatusCode, resp.Header.Get("Retry-After")}
		}()
	}
	served, refused := 0, 0
	for range 8 {
		r := <-out
		switch {
		case r.status == http.StatusOK:
			served++
		case r.status == http.StatusServiceUnavailable && r.retry != "":
			refused++
		default:
			t.Errorf("a batch: %d (Retry-After %q)", r.status, r.retry)
		}
	}
	peak := vmHWM(t, srv.cmd.Process.Pid)
	t.Logf("batches of %d bytes: %d served, %d refused with 503; peak RSS %d MB (before %d MB)", len(body), served, refused, peak>>10, base0>>10)
	if served == 0 || refused == 0 {
		t.Errorf("%d served, %d refused: want both", served, refused)
	}
	if peak-base0 > 300<<10 {
		t.Errorf("peak RSS grew by %d MB for 8 concurrent batches of %d MB (ceiling 300 MB; unbounded it grew by ~540 MB)", (peak-base0)>>10, len(body)>>20)
	}
	srv.stop(t)
}
