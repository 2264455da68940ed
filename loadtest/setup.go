package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/dotm-survey/dotm/questionnaire"
)

// Role returns the role of the user a token belongs to (GET /api/v1/me).
func Role(ctx context.Context, client *http.Client, baseURL, token string) (string, error) {
	if err := CheckURL(baseURL); err != nil {
		return "", err
	}
	var me struct {
		Role string `json:"role"`
	}
	if _, err := call(ctx, client, http.MethodGet, strings.TrimRight(baseURL, "/")+"/api/v1/me", token, "", nil, &me); err != nil {
		return "", fmt.Errorf("loadtest: who is the token's user: %w", err)
	}
	return me.Role, nil
}

// Setup prepares a server for a run with an admin's token: it creates the
// survey when it does not exist, uploads the built-in household form into
// it (a second upload of the same version is accepted by the server), and
// adds n enumerators named PREFIX-001… in that survey. It returns their
// tokens, which the server shows only this once.
func Setup(ctx context.Context, client *http.Client, baseURL, adminToken, survey, prefix string, n int) ([]string, error) {
	if err := CheckURL(baseURL); err != nil {
		return nil, err
	}
	if n < 1 || n > MaxEnumerators {
		return nil, fmt.Errorf("loadtest: setup of %d enumerators: want 1 to %d", n, MaxEnumerators)
	}
	base := strings.TrimRight(baseURL, "/") + "/api/v1"
	sv, _ := json.Marshal(map[string]any{"id": survey, "country": "Load test", "title": "dotm loadtest", "languages": []string{"en", "es"}})
	if st, err := call(ctx, client, http.MethodPost, base+"/surveys", adminToken, "application/json", sv, nil); err != nil && st != http.StatusConflict {
		return nil, fmt.Errorf("loadtest: create survey %s: %w", survey, err)
	}
	if _, err := call(ctx, client, http.MethodPost, base+"/surveys/"+survey+"/forms?format=yaml", adminToken, "application/yaml", questionnaire.HouseholdYAML(), nil); err != nil {
		return nil, fmt.Errorf("loadtest: upload the household form to survey %s: %w", survey, err)
	}
	tokens := make([]string, n)
	for i := range tokens {
		u, _ := json.Marshal(map[string]any{"name": fmt.Sprintf("%s-%03d", prefix, i+1), "role": "enumerator", "surveys": []string{survey}})
		var out struct {
			Token string `json:"token"`
		}
		if _, err := call(ctx, client, http.MethodPost, base+"/users", adminToken, "application/json", u, &out); err != nil {
			return nil, fmt.Errorf("loadtest: add enumerator %s-%03d: %w", prefix, i+1, err)
		}
		tokens[i] = out.Token
	}
	return tokens, nil
}

// call sends one request and decodes a 2xx JSON answer into out; other
// answers are errors carrying the problem document's title and detail.
func call(ctx context.Context, client *http.Client, method, url, token, ctype string, body []byte, out any) (int, error) {
	if client == nil {
		client = http.DefaultClient
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode/100 != 2 {
		var p struct{ Title, Detail string }
		_ = json.Unmarshal(b, &p)
		return resp.StatusCode, fmt.Errorf("HTTP %d: %s %s", resp.StatusCode, p.Title, p.Detail)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("answer of %s: %w", url, err)
		}
	}
	return resp.StatusCode, nil
}
