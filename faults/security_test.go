package faults

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dotm-survey/dotm/internal/testutil"
	"github.com/dotm-survey/dotm/loadtest"
)

// TestSecurityHeadersAndClosedCORS checks the headers of every kind of
// answer and that no cross-origin access is granted.
func TestSecurityHeadersAndClosedCORS(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	admin := addUser(t, data, "admin", "admin")
	addr := freeAddr(t)
	base := "http://" + addr
	srv := startServe(t, &testutil.Buffer{}, addr, data)
	for _, c := range []struct{ method, path, token string }{
		{"GET", "/healthz", ""},
		{"GET", "/api/v1/me", admin},
		{"GET", "/api/v1/me", ""},          // 401
		{"GET", "/api/v1/nowhere", admin},  // 404
		{"POST", "/api/v1/surveys", admin}, // 400
		{"DELETE", "/api/v1/me", admin},    // 405
		{"OPTIONS", "/api/v1/surveys", ""}, // preflight
		{"OPTIONS", "/api/v1/me", admin},
	} {
		req, _ := http.NewRequest(c.method, base+c.path, nil)
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization")
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		for k, want := range map[string]string{
			"X-Content-Type-Options": "nosniff",
			"X-Frame-Options":        "DENY",
			"Referrer-Policy":        "no-referrer",
			"Cache-Control":          "no-store",
		} {
			if got := h.Get(k); got != want {
				t.Errorf("%s %s (%d): %s = %q, want %q", c.method, c.path, resp.StatusCode, k, got, want)
			}
		}
		for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers"} {
			if v := h.Get(k); v != "" {
				t.Errorf("%s %s: CORS header %s: %q; CORS must be closed", c.method, c.path, k, v)
			}
		}
		if c.method == "OPTIONS" && resp.StatusCode/100 == 2 {
			t.Errorf("preflight %s answered %d", c.path, resp.StatusCode)
		}
	}
	srv.stop(t)
}

// TestSlowClientIsCut opens connections that send their headers a byte at
// a time (slowloris): the server must close them after the header timeout
// and keep serving others.
func TestSlowClientIsCut(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	addr := freeAddr(t)
	srv := startServe(t, &testutil.Buffer{}, addr, data, "--read-header-timeout", "1s")
	conns := make([]net.Conn, 20)
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	start := time.Now()
	closed := make(chan time.Duration, len(conns))
	for _, c := range conns {
		go func(c net.Conn) {
			partial := "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "
			for i := 0; ; i++ {
				b := []byte{'a'}
				if i < len(partial) {
					b = []byte{partial[i]}
				}
				c.SetWriteDeadline(time.Now().Add(time.Second))
				if _, err := c.Write(b); err != nil {
					break
				}
				// Detect the server's close.
				c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
				if _, err := c.Read(make([]byte, 1)); err != nil && !isTimeout(err) {
					break
				}
				if time.Since(start) > 30*time.Second {
					break
				}
			}
			closed <- time.Since(start)
		}(c)
	}
	// Meanwhile a normal client is served.
	time.Sleep(300 * time.Millisecond)
	if st, _, _, took := timedRequest(t, http.MethodGet, "http://"+addr+"/healthz", "", nil); st != http.StatusOK || took > 5*time.Second {
		t.Errorf("a normal client during the slow ones: %d after %s", st, took)
	}
	for range conns {
		if d := <-closed; d > 10*time.Second {
			t.Errorf("a slow client kept its connection for %s (header timeout 1s)", d.Round(time.Millisecond))
		}
	}
	srv.stop(t)
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// selfSigned writes a certificate and key for 127.0.0.1 into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "dotm test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestTLS serves HTTPS with --tls-cert and --tls-key and refuses half a pair.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	addr := freeAddr(t)
	logs := &testutil.Buffer{}
	srv := start(t, logs, "serve", "--addr", addr, "--data-dir", filepath.Join(dir, "data"), "--insecure-dev-key", "--tls-cert", certFile, "--tls-key", keyFile)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	var resp *http.Response
	var err error
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err = client.Get("https://" + addr + "/readyz"); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("HTTPS: %v\n%s", err, logs.String())
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("HTTPS /readyz: %d, TLS %+v", resp.StatusCode, resp.TLS)
	}
	// Plain HTTP on the TLS port gets no API answer.
	if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("plain HTTP on the TLS port answered 200")
		}
	}
	if !strings.Contains(logs.String(), `"addr":"https://`) {
		t.Errorf("the start-up log does not say https:\n%s", logs.String())
	}
	srv.stop(t)

	// Half a pair, or a bad pair, is refused at start.
	for _, args := range [][]string{
		{"--tls-cert", certFile},
		{"--tls-key", keyFile},
		{"--tls-cert", keyFile, "--tls-key", certFile},
	} {
		cmd := exec.Command(dotmBin(t), append([]string{"serve", "--addr", freeAddr(t), "--data-dir", filepath.Join(dir, "data2"), "--insecure-dev-key"}, args...)...)
		cmd.Env = cleanEnv()
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "tls") && !strings.Contains(string(out), "TLS") {
			t.Errorf("serve %v: %v\n%s", args, err, out)
		}
	}
}

// TestNoSecretsInLogsOrProblems sends answers carrying marker strings, valid
// and invalid, single and batch, with good and bad tokens, and searches the
// server's whole log and every problem document for any marker or token.
func TestNoSecretsInLogsOrProblems(t *testing.T) {
	ctx := context.Background()
	data := filepath.Join(t.TempDir(), "data")
	admin := addUser(t, data, "admin", "admin")
	addr := freeAddr(t)
	base := "http://" + addr
	logs := &testutil.Buffer{}
	srv := startServe(t, logs, addr, data)
	enu, err := loadtest.Setup(ctx, nil, base, admin, "secrets", "enu", 1)
	if err != nil {
		t.Fatal(err)
	}
	const mark = "Zq7Mark"
	secrets := []string{admin, enu[0], mark}

	g := loadtest.NewGenerator(42, 0)
	valid := g.Next()
	valid.Answers["respondent_name"] = mark + " Respondent"
	valid.Answers["household_id"] = mark + "HH"
	valid.Answers["deviceid"] = mark + "-device"
	bad := []map[string]any{}
	for _, mod := range []func(a map[string]any){
		func(a map[string]any) { a["phone"] = mark + "Phone" },                    // constraint
		func(a map[string]any) { a["region"] = mark + "Region" },                  // not a choice
		func(a map[string]any) { a["n_members"] = mark + "Count" },                // wrong type
		func(a map[string]any) { a["interview_date"] = mark + "Date" },            // not a date
		func(a map[string]any) { a["zz_not_a_question"] = mark + "Unknown" },      // unknown question
		func(a map[string]any) { a["remit_uses"] = []any{mark + "Use"} },          // bad multi choice
		func(a map[string]any) { a["gps"] = map[string]any{"lat": mark + "Lat"} }, // bad geopoint
		func(a map[string]any) { a["consent"] = "no"; a["food_exp"] = mark },      // irrelevant + type
	} {
		e := g.Next()
		e.Answers["respondent_name"] = mark + " Name"
		mod(e.Answers)
		bad = append(bad, map[string]any{"instance_id": e.InstanceID, "form_id": e.FormID, "form_version": e.FormVersion,
			"started_at": e.StartedAt, "ended_at": e.EndedAt, "answers": e.Answers})
	}
	var problems []string
	post := func(path, token string, body any, ctype string) {
		var b []byte
		switch v := body.(type) {
		case []byte:
			b = v
		default:
			b, _ = json.Marshal(v)
		}
		req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(string(b)))
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		rb, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 400 || path == "/api/v1/submissions/batch" {
			problems = append(problems, path+" "+resp.Status+": "+string(rb))
		}
	}
	post("/api/v1/submissions", enu[0], valid, "application/json")
	// A conflicting retry of the same instance.
	conflict := valid
	conflict.Answers["respondent_name"] = mark + " Other"
	post("/api/v1/submissions", enu[0], conflict, "application/json")
	for _, b := range bad {
		post("/api/v1/submissions", enu[0], b, "application/json")
		post("/api/v1/submissions", enu[0], b, "text/plain")
	}
	post("/api/v1/submissions/batch", enu[0], map[string]any{"submissions": append([]map[string]any{}, bad...)}, "application/json")
	post("/api/v1/submissions", enu[0], []byte(`{"answers":{"respondent_name":"`+mark+`"`), "application/json") // truncated
	post("/api/v1/submissions", enu[0], []byte(`{"answers":{"respondent_name":`+mark+`}}`), "application/json") // syntax
	// Wrong tokens that look like real ones, and a token in the wrong place.
	post("/api/v1/submissions", "dotm_"+mark+"WrongToken", valid, "application/json")
	post("/api/v1/submissions", admin, valid, "application/json") // admin may not submit: 403
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/me?token="+enu[0]+"&"+mark+"=1", nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		problems = append(problems, "GET /me?token: "+string(b))
	}

	srv.stop(t)
	out := logs.String()
	if !strings.Contains(out, `"route":"/api/v1/submissions"`) {
		t.Fatalf("the log has no request lines; is it captured?\n%s", tail(out, 2000))
	}
	for _, s := range secrets {
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, s) {
				t.Errorf("a log line contains %q: %s", short(s), line)
			}
		}
		for _, p := range problems {
			if strings.Contains(p, s) {
				t.Errorf("an answer contains %q: %s", short(s), tail(p, 600))
			}
		}
	}
	// The problems were real refusals, with field paths but without values.
	n422 := 0
	for _, p := range problems {
		if strings.Contains(p, "422") {
			n422++
		}
	}
	if n422 < len(bad) {
		t.Errorf("only %d answers were 422 for %d invalid submissions:\n%s", n422, len(bad), strings.Join(problems, "\n"))
	}
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12] + "…"
	}
	return s
}

// TestTrustedProxies: by default X-Forwarded-For is ignored (the sign-in
// limiter holds and the audit trail records the real address); with
// --trusted-proxies the proxy's header names the client.
func TestTrustedProxies(t *testing.T) {
	for _, trusted := range []bool{false, true} {
		data := filepath.Join(t.TempDir(), "data")
		admin := addUser(t, data, "admin", "admin")
		addr := freeAddr(t)
		var extra []string
		if trusted {
			extra = []string{"--trusted-proxies", "127.0.0.1,::1"}
		}
		srv := startServe(t, &testutil.Buffer{}, addr, data, extra...)
		limited := 0
		for i := 0; i < 40; i++ {
			req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/me", nil)
			req.Header.Set("Authorization", "Bearer dotm_wrong")
			req.Header.Set("X-Forwarded-For", "203.0.113."+strconv.Itoa(i))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusTooManyRequests {
				limited++
			}
		}
		switch {
		case !trusted && limited != 20:
			t.Errorf("no trusted proxy: 40 failures with changing X-Forwarded-For: %d limited, want 20", limited)
		case trusted && limited != 0:
			t.Errorf("trusted proxy: 40 failures of 40 forwarded addresses: %d limited, want 0", limited)
		}
		if trusted {
			// From the trusted proxy, the admin's own requests still pass.
			if st := api(t, "GET", "http://"+addr+"/api/v1/me", admin, nil, nil); st != 200 {
				t.Errorf("admin behind the proxy: %d", st)
			}
		}
		srv.stop(t)
	}
	// A malformed list is refused at start.
	cmd := exec.Command(dotmBin(t), "serve", "--addr", freeAddr(t), "--data-dir", filepath.Join(t.TempDir(), "d"), "--insecure-dev-key", "--trusted-proxies", "10.0.0.0/33")
	cmd.Env = cleanEnv()
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "--trusted-proxies") {
		t.Errorf("--trusted-proxies 10.0.0.0/33: %v\n%s", err, out)
	}
}
