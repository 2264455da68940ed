package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/client"
	"github.com/dotm-survey/dotm/questionnaire"
)

// Role returns the role of the user a token belongs to (GET /api/v1/me).
func Role(ctx context.Context, hc *http.Client, baseURL, token string) (string, error) {
	if err := CheckURL(baseURL); err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	me, err := client.New(baseURL, token, hc).Me(ctx)
	if err != nil {
		return "", fmt.Errorf("loadtest: who is the token's user: %w", err)
	}
	return string(me.Role), nil
}

// Setup prepares a server for a run with an admin's token: it creates the
// survey when it does not exist, uploads the built-in household form into
// it (a second upload of the same version is accepted by the server), and
// adds n enumerators named PREFIX-001… in that survey. It returns their
// tokens, which the server shows only this once.
func Setup(ctx context.Context, hc *http.Client, baseURL, adminToken, survey, prefix string, n int) ([]string, error) {
	if err := CheckURL(baseURL); err != nil {
		return nil, err
	}
	if n < 1 || n > MaxEnumerators {
		return nil, fmt.Errorf("loadtest: setup of %d enumerators: want 1 to %d", n, MaxEnumerators)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second+time.Duration(n)*time.Second)
	defer cancel()
	admin := client.New(baseURL, adminToken, hc)
	_, err := admin.CreateSurvey(ctx, client.SurveyRequest{ID: survey, Country: "Load test", Title: "dotm loadtest", Languages: []string{"en", "es"}})
	if err != nil && dotm.ErrorCode(err) != dotm.ECONFLICT {
		return nil, fmt.Errorf("loadtest: create survey %s: %w", survey, err)
	}
	if _, err := admin.UploadForm(ctx, survey, "application/yaml", questionnaire.HouseholdYAML()); err != nil {
		return nil, fmt.Errorf("loadtest: upload the household form to survey %s: %w", survey, err)
	}
	tokens := make([]string, n)
	for i := range tokens {
		token, err := admin.AddUser(ctx, fmt.Sprintf("%s-%03d", prefix, i+1), dotm.RoleEnumerator, []string{survey})
		if err != nil {
			return nil, fmt.Errorf("loadtest: add enumerator %s-%03d: %w", prefix, i+1, err)
		}
		tokens[i] = token
	}
	return tokens, nil
}
