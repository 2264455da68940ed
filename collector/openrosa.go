package collector

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/internal/odkcrypt"
	"github.com/dotm-survey/dotm/questionnaire"
)

// This file is the OpenRosa server API that ODK Collect, KoboCollect and
// Enketo speak (https://docs.getodk.org/openrosa/), per survey, under two
// prefixes:
//
//	/v1/key/{token}/projects/{survey}   the token in the URL, as ODK
//	                                    Central's QR-code setup gives it
//	/openrosa/projects/{survey}         HTTP Basic (any user name, the
//	                                    token as password) or a bearer token
//
// Under each: GET formList, GET forms/{form}/versions/{version}/form.xml
// (the XForm), GET .../manifest, HEAD and POST submission. A submission is
// the instance XML in the multipart part xml_submission_file; it becomes
// the same submission as the JSON API's (the same validation, idempotency
// on meta/instanceID, meta/deprecatedID as supersedes, sealing of direct
// identifiers, assignment bookkeeping and audit), answered in OpenRosa
// response XML. Errors are OpenRosa XML too, so that Collect shows their
// message.

// OpenRosa namespaces.
const (
	nsXFormsList = "http://openrosa.org/xforms/xformsList"
	nsManifest   = "http://openrosa.org/xforms/xformsManifest"
	nsResponse   = "http://openrosa.org/http/response"
)

// openRosaRoutes adds the OpenRosa API under both prefixes.
func (s *Server) openRosaRoutes() {
	d := s.deps
	auth := authenticate(d.Users, s.tokens, s.limiter, s.signIns)
	for _, prefix := range []string{"/v1/key/:token/projects/:survey", "/openrosa/projects/:survey"} {
		g := s.engine.Group(prefix, openRosaHeaders(), openRosaErrors(d.Logger), openRosaToken(), auth)
		g.GET("/formList", allow(dotm.RoleEnumerator, dotm.RoleSupervisor), handleFormList(d.Surveys, d.Forms, s.ingest.forms))
		g.GET("/forms/:form/versions/:version/form.xml", allow(dotm.RoleEnumerator, dotm.RoleSupervisor), handleXForm(s.ingest.forms))
		g.GET("/forms/:form/versions/:version/manifest", allow(dotm.RoleEnumerator, dotm.RoleSupervisor), handleManifest(s.ingest.forms))
		g.GET("/forms/:form/versions/:version/attachments/:name", allow(dotm.RoleEnumerator, dotm.RoleSupervisor), handleFormAttachment(s.ingest.forms))
		g.HEAD("/submission", allow(dotm.RoleEnumerator), handleSubmissionHead())
		g.POST("/submission", allow(dotm.RoleEnumerator), s.needKeys(), limitBody(openRosaBodyBytes), handleOpenRosaSubmission(s.ingest, s.attach))
	}
}

// MaxOpenRosaBytes is the X-OpenRosa-Accept-Content-Length that HEAD
// submission advertises: Collect puts files in one request up to this many
// bytes and sends the rest in further requests (see attachments.go). The
// body of a request may be a little larger (openRosaBodyBytes).
const MaxOpenRosaBytes = 10 << 20

// openRosaHeaders sets the headers every OpenRosa answer carries.
func openRosaHeaders() gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Header("X-OpenRosa-Version", "1.0")
		c.Header("Date", time.Now().UTC().Format(http.TimeFormat))
		c.Next()
	}
}

// openRosaToken turns the token of a /v1/key/{token} URL, or the password
// of HTTP Basic, into the bearer token authenticate reads. Without any,
// the 401 asks for Basic credentials, which Collect then prompts for.
func openRosaToken() gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Request.Header
		switch {
		case strings.HasPrefix(c.FullPath(), "/v1/key/"): // the token is the URL's, even empty
			h.Set("Authorization", "Bearer "+c.Param("token"))
		case strings.HasPrefix(h.Get("Authorization"), "Basic "):
			raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(h.Get("Authorization"), "Basic "))
			_, password, ok := strings.Cut(string(raw), ":")
			if err != nil || !ok {
				password = ""
			}
			h.Set("Authorization", "Bearer "+password)
		}
		c.Next()
	}
}

// openRosaErrors writes a failed OpenRosa request's error as OpenRosa
// response XML (the status as the JSON API would answer it), so that
// Collect shows the message; a 422 lists its first problems.
func openRosaErrors(logger *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Next()
		if len(c.Errors) == 0 || c.Writer.Written() {
			return
		}
		err := c.Errors.Last().Err
		e, status := errorStatus(err)
		msg := e.Message
		if status >= 500 {
			logger.Error("openrosa request failed", "route", c.FullPath(), "error", err.Error())
			if e.Code == dotm.EINTERNAL {
				msg = "internal error; the server log has it"
			}
		}
		for i, p := range e.Problems {
			if i == 10 {
				msg += fmt.Sprintf("; and %d more", len(e.Problems)-10)
				break
			}
			msg += "; " + p.Path + ": " + p.Message
		}
		if e.RetryAfter > 0 {
			c.Header("Retry-After", strconv.Itoa(e.RetryAfter))
		}
		if status == http.StatusUnauthorized { // Collect then asks for a user name and password
			c.Header("WWW-Authenticate", `Basic realm="dotm", charset="UTF-8"`)
		}
		writeOpenRosaMessage(c, status, "error", msg)
	}
}

// writeOpenRosaMessage answers an OpenRosa response document.
func writeOpenRosaMessage(c *gin.Context, status int, nature, msg string) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString(`<OpenRosaResponse xmlns="` + nsResponse + `"><message nature="` + nature + `">`)
	_ = xml.EscapeText(&b, []byte(msg))
	b.WriteString("</message></OpenRosaResponse>\n")
	c.Data(status, "text/xml; charset=utf-8", b.Bytes())
}

// baseURL is the scheme and host the client used, for the absolute URLs
// formList gives. Behind a trusted reverse proxy that terminates TLS
// (Deps.TrustedProxies) the proxy's X-Forwarded-Proto and
// X-Forwarded-Host say what the client used; from anyone else they are
// ignored. gin trusts forwarded headers only from those proxies, so a
// client address that differs from the connection's means the request came
// through one.
func baseURL(c *gin.Context) string {
	scheme, host := "http", c.Request.Host
	if c.Request.TLS != nil {
		scheme = "https"
	}
	if c.ClientIP() != c.RemoteIP() {
		if p := strings.ToLower(c.GetHeader("X-Forwarded-Proto")); p == "https" || p == "http" {
			scheme = p
		}
		if h := c.GetHeader("X-Forwarded-Host"); h != "" && !strings.ContainsAny(h, "/ ,") {
			host = h
		}
	}
	return scheme + "://" + host
}

// handleFormList: GET formList, the OpenRosa xformsList of the survey's
// forms (the latest version of each), each with its XForm's md5 hash and
// download URL. A form that cannot be written as an XForm is left out and
// logged, not shown broken.
func handleFormList(surveys dotm.SurveyStore, forms dotm.FormStore, cache *formCache) gin.HandlerFunc {
	return func(c *gin.Context) {
		sv, ok := surveyInScope(c, surveys)
		if !ok {
			return
		}
		ctx := c.Request.Context()
		all, err := forms.FormVersions(ctx, "", sv.ID)
		if err != nil {
			fail(c, err)
			return
		}
		latest := map[string]dotm.FormVersion{}
		var order []string
		for _, v := range all { // oldest upload first: the last one wins
			if _, seen := latest[v.FormID]; !seen {
				order = append(order, v.FormID)
			}
			latest[v.FormID] = v
		}
		var b bytes.Buffer
		esc := func(s string) { _ = xml.EscapeText(&b, []byte(s)) }
		b.WriteString(xml.Header + `<xforms xmlns="` + nsXFormsList + `">`)
		for _, id := range order {
			v := latest[id]
			x, err := cache.xform(ctx, v.FormID, v.Version)
			if err != nil {
				fail(c, err)
				return
			}
			sum := md5.Sum(x)
			title := v.Title
			if title == "" {
				title = v.FormID
			}
			url := baseURL(c) + formPath(c, v.FormID, v.Version)
			b.WriteString("<xform><formID>")
			esc(v.FormID)
			b.WriteString("</formID><name>")
			esc(title)
			b.WriteString("</name><version>")
			esc(v.Version)
			b.WriteString("</version><hash>md5:" + hex.EncodeToString(sum[:]) + "</hash><downloadUrl>")
			esc(url + "/form.xml")
			b.WriteString("</downloadUrl><manifestUrl>")
			esc(url + "/manifest")
			b.WriteString("</manifestUrl></xform>")
		}
		b.WriteString("</xforms>\n")
		c.Data(http.StatusOK, "text/xml; charset=utf-8", b.Bytes())
	}
}

// formPath is the path of a form version under the request's prefix.
func formPath(c *gin.Context, form, version string) string {
	p := c.Request.URL.Path
	p = p[:strings.LastIndex(p, "/")] // drop /formList
	return p + "/forms/" + url.PathEscape(form) + "/versions/" + url.PathEscape(version)
}

// openRosaForm finds the form version of the request, in the caller's
// scope and in the URL's survey.
func openRosaForm(c *gin.Context, cache *formCache) (*cachedForm, bool) {
	cf, err := cache.get(c.Request.Context(), c.Param("form"), c.Param("version"))
	if err != nil {
		fail(c, err)
		return nil, false
	}
	if cf.survey != c.Param("survey") || !currentUser(c).InSurvey(cf.survey) {
		fail(c, dotm.Errorf(dotm.ENOTFOUND, "form %s version %s is not a form of survey %s", c.Param("form"), c.Param("version"), c.Param("survey")))
		return nil, false
	}
	return cf, true
}

// handleXForm: GET forms/{form}/versions/{version}/form.xml, the XForm.
func handleXForm(cache *formCache) gin.HandlerFunc {
	return func(c *gin.Context) {
		if _, ok := openRosaForm(c, cache); !ok {
			return
		}
		x, err := cache.xform(c.Request.Context(), c.Param("form"), c.Param("version"))
		if err != nil {
			fail(c, err)
			return
		}
		c.Data(http.StatusOK, "text/xml; charset=utf-8", x)
	}
}

// handleManifest: GET forms/{form}/versions/{version}/manifest, the media
// files of the form version: those the form carries itself
// (questionnaire.Form.Attachments, such as itemsets.csv from the
// external_choices sheet) and those uploaded with it (dotm.FormVersion.Media),
// with their md5 hashes and download URLs.
func handleManifest(cache *formCache) gin.HandlerFunc {
	return func(c *gin.Context) {
		cf, ok := openRosaForm(c, cache)
		if !ok {
			return
		}
		var b bytes.Buffer
		b.WriteString(xml.Header + `<manifest xmlns="` + nsManifest + `">`)
		base := strings.TrimSuffix(baseURL(c)+c.Request.URL.Path, "/manifest")
		for _, a := range cf.media {
			sum := md5.Sum(a.Data)
			b.WriteString("<mediaFile><filename>")
			_ = xml.EscapeText(&b, []byte(a.Name))
			b.WriteString("</filename><hash>md5:" + hex.EncodeToString(sum[:]) + "</hash><downloadUrl>")
			_ = xml.EscapeText(&b, []byte(base+"/attachments/"+url.PathEscape(a.Name)))
			b.WriteString("</downloadUrl></mediaFile>")
		}
		b.WriteString("</manifest>\n")
		c.Data(http.StatusOK, "text/xml; charset=utf-8", b.Bytes())
	}
}

// handleFormAttachment: GET forms/{form}/versions/{version}/attachments/{name},
// one file of the manifest.
func handleFormAttachment(cache *formCache) gin.HandlerFunc {
	return func(c *gin.Context) {
		cf, ok := openRosaForm(c, cache)
		if !ok {
			return
		}
		for _, a := range cf.media {
			if a.Name == c.Param("name") {
				c.Data(http.StatusOK, a.ContentType, a.Data)
				return
			}
		}
		fail(c, dotm.Errorf(dotm.ENOTFOUND, "form %s version %s has no attachment %q", c.Param("form"), c.Param("version"), c.Param("name")))
	}
}

// handleSubmissionHead: HEAD submission, Collect's question before it
// sends: 204 with the largest request it may send.
func handleSubmissionHead() gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Header("X-OpenRosa-Accept-Content-Length", strconv.Itoa(MaxOpenRosaBytes))
		c.Status(http.StatusNoContent)
	}
}

// handleOpenRosaSubmission: POST submission (multipart/form-data with the
// instance in xml_submission_file and the files its media questions name
// in the other parts). 201 for a new interview, and for a resend of one
// that adds files (Collect splits large submissions so, see
// attachments.go); 202 for a resend that adds nothing; 409 for the same
// instance id with other content, or a file received before with other
// bytes; 422 (with the problems in the message) for answers that fail the
// form's checks; 400 for a file that no answer names. A file the answers
// name but the request lacks is expected later, not an error.
func handleOpenRosaSubmission(in *ingester, att *attachments) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		u := currentUser(c)
		post, err := readOpenRosaPost(c)
		if err != nil {
			fail(c, err)
			return
		}
		var manifest *odkcrypt.Manifest
		if odkcrypt.IsEncrypted(post.doc) {
			if manifest, err = in.decrypt(ctx, c.Param("survey"), &post); err != nil {
				fail(c, err)
				return
			}
		}
		formID, version, err := instanceForm(post.doc)
		if err != nil {
			fail(c, err)
			return
		}
		cf, err := in.forms.get(ctx, formID, version)
		if dotm.ErrorCode(err) == dotm.ENOTFOUND {
			fail(c, dotm.Errorf(dotm.EUNPROCESSABL, "unknown form %s version %s: download the form again", formID, version))
			return
		}
		if err != nil {
			fail(c, err)
			return
		}
		if cf.survey != c.Param("survey") {
			fail(c, dotm.Errorf(dotm.EUNPROCESSABL, "form %s belongs to survey %s, not %s", formID, cf.survey, c.Param("survey")))
			return
		}
		inst, err := cf.form.ReadInstance(post.doc)
		if err != nil {
			fail(c, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: err.Error()})
			return
		}
		if manifest != nil && (manifest.FormID != formID || manifest.Version != version || strings.TrimPrefix(manifest.InstanceID, "uuid:") != strings.TrimPrefix(inst.InstanceID, "uuid:")) {
			fail(c, dotm.Errorf(dotm.EUNPROCESSABL, "the encrypted submission's manifest (form %s version %s, instance %s) does not match the instance it holds (form %s version %s, instance %s)",
				manifest.FormID, manifest.Version, manifest.InstanceID, formID, version, inst.InstanceID))
			return
		}
		expected, err := matchFiles(cf.form, inst.Answers, post.files)
		if err != nil {
			fail(c, err)
			return
		}
		if len(post.files) > 0 && att == nil {
			fail(c, dotm.Errorf(dotm.EUNPROCESSABL, "file %q: this server does not store submission files; send without them", post.files[0].name()))
			return
		}
		now := time.Now()
		env := dotm.Envelope{InstanceID: inst.InstanceID, FormID: formID, FormVersion: version, Answers: inst.Answers, Supersedes: inst.DeprecatedID}
		env.StartedAt, env.EndedAt = instanceTimes(inst.Answers, now)
		// A resend of an interview received before keeps what the first
		// receipt settled, so that it is a duplicate: its times when the
		// form has no start and end metadata, and the assignment it was
		// linked to (no longer open).
		old, err := in.subs.Submission(ctx, inst.InstanceID)
		switch {
		case err == nil:
			if _, hasStart := inst.Answers["start"]; !hasStart {
				env.StartedAt, env.EndedAt = old.StartedAt.Format(time.RFC3339Nano), old.EndedAt.Format(time.RFC3339Nano)
			}
			if env.Supersedes == "" {
				env.AssignmentID = old.AssignmentID
			}
		case dotm.ErrorCode(err) != dotm.ENOTFOUND:
			fail(c, err)
			return
		case env.Supersedes == "":
			if env.AssignmentID, err = matchAssignment(c, in.assignments, cf.survey, u.Name, inst.Answers); err != nil {
				fail(c, err)
				return
			}
		}
		result, sub, err := in.ingest(ctx, u, env, now)
		if err != nil {
			fail(c, err)
			return
		}
		if result != dotm.ResultCreated && result != dotm.ResultDuplicate {
			fail(c, dotm.Errorf(dotm.ECONFLICT, "interview %s exists with different content; a new interview needs a new instance id", sub.ID))
			return
		}
		// The interview is stored: now its files, each whole or not at all.
		added := 0
		for _, f := range post.files {
			stored, err := att.put(ctx, sub.Survey, sub.ID, f.name(), f.contentType, f.data, now)
			if err != nil {
				fail(c, err)
				return
			}
			if stored {
				added++
			}
		}
		files, err := filesNote(ctx, att, sub.ID, expected)
		if err != nil {
			fail(c, err)
			return
		}
		switch {
		case result == dotm.ResultCreated:
			writeOpenRosaMessage(c, http.StatusCreated, "submit_success", "Interview "+sub.ID+" received; it waits for review."+files)
		case added > 0:
			writeOpenRosaMessage(c, http.StatusCreated, "submit_success", "Interview "+sub.ID+": "+plural(added, "file", "files")+" added."+files)
		default:
			writeOpenRosaMessage(c, http.StatusAccepted, "submit_success", "Interview "+sub.ID+" was received before."+files)
		}
	}
}

// filesNote says how many of the files the interview's answers name are
// stored, for the answer's message ("" when it names none).
func filesNote(ctx context.Context, att *attachments, id string, expected []questionnaire.MediaFile) (string, error) {
	if len(expected) == 0 || att == nil {
		return "", nil
	}
	have := 0
	for _, m := range expected {
		_, err := att.store.Attachment(ctx, id, m.Name)
		switch {
		case err == nil:
			have++
		case dotm.ErrorCode(err) != dotm.ENOTFOUND:
			return "", err
		}
	}
	note := " " + strconv.Itoa(have) + " of " + plural(len(expected), "file", "files") + " received"
	if have < len(expected) {
		note += "; send the others"
	}
	return note + ".", nil
}

// decrypt decrypts an ODK encrypted submission (the manifest in post.doc,
// the encrypted files in post.files) with the survey's ODK keys: the one of
// the form's own public_key, else each of the survey's keys, newest first
// (a tablet may hold a form downloaded before the newest key). It puts the
// instance XML and the decrypted files (under their plain names) in post,
// and returns the manifest. The files are signed together, so an encrypted
// interview is decrypted whole: one sent over several requests is refused.
// Every failure is the client's: 422 with what went wrong.
func (in *ingester) decrypt(ctx context.Context, survey string, post *openRosaPost) (*odkcrypt.Manifest, error) {
	m, err := odkcrypt.ParseManifest(post.doc)
	if err != nil {
		return nil, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: err.Error()}
	}
	if in.odkKeys == nil {
		return nil, dotm.Errorf(dotm.EUNPROCESSABL, "form %s sends encrypted submissions, but this server keeps no ODK keys", m.FormID)
	}
	keys, err := in.odkKeys.ODKKeys(ctx, survey)
	if err != nil {
		return nil, err
	}
	if cf, err := in.forms.get(ctx, m.FormID, m.Version); err == nil {
		if pk, err := odkcrypt.ParsePublicKey(cf.form.Settings["public_key"]); err == nil {
			fp := odkcrypt.Fingerprint(pk)
			keys = slices.DeleteFunc(keys, func(k dotm.ODKKey) bool { return k.Fingerprint != fp })
			if len(keys) == 0 {
				return nil, dotm.Errorf(dotm.EUNPROCESSABL, "form %s version %s is encrypted with public key %s, whose private key survey %s does not have: import it with dotm forms keys import", m.FormID, m.Version, fp, survey)
			}
		}
	}
	if len(keys) == 0 {
		return nil, dotm.Errorf(dotm.EUNPROCESSABL, "form %s sends encrypted submissions, but survey %s has no ODK key: make one with dotm forms keys generate, or import one with dotm forms keys import", m.FormID, survey)
	}
	files := map[string][]byte{}
	for _, f := range post.files {
		files[f.name()] = f.data
	}
	dataKeys := in.keys()
	for i := len(keys) - 1; i >= 0; i-- {
		priv, err := keys[i].Open(dataKeys)
		if err != nil {
			return nil, &dotm.Error{Code: dotm.EINTERNAL, Err: err}
		}
		inst, media, err := odkcrypt.Decrypt(priv, m, files)
		switch {
		case errors.Is(err, odkcrypt.ErrWrongKey):
			continue
		case err != nil && post.incomplete:
			return nil, dotm.Errorf(dotm.EUNPROCESSABL, "encrypted interview %s: %s; an encrypted interview is decrypted whole, so send it in one request (dotm does not yet take one split over several)", m.InstanceID, strings.TrimPrefix(err.Error(), "odkcrypt: "))
		case err != nil:
			return nil, dotm.Errorf(dotm.EUNPROCESSABL, "encrypted interview %s: %s; send it again", m.InstanceID, strings.TrimPrefix(err.Error(), "odkcrypt: "))
		}
		post.doc, post.files = inst, nil
		for _, f := range media {
			post.files = append(post.files, postedFile{field: f.Name, filename: f.Name, contentType: mime.TypeByExtension(path.Ext(f.Name)), data: f.Data})
		}
		return m, nil
	}
	return nil, dotm.Errorf(dotm.EUNPROCESSABL, "encrypted interview %s of form %s decrypts with none of survey %s's ODK keys: the form was encrypted with another public key", m.InstanceID, m.FormID, survey)
}

// instanceForm reads the form id and version off an instance's root.
func instanceForm(doc []byte) (string, string, error) {
	dec := xml.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", "", &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "xml_submission_file is not an XForm instance: " + err.Error()}
		}
		if se, ok := tok.(xml.StartElement); ok {
			var id, version string
			for _, a := range se.Attr {
				switch a.Name.Local {
				case "id":
					id = a.Value
				case "version":
					version = a.Value
				}
			}
			if id == "" || version == "" {
				return "", "", dotm.Errorf(dotm.EUNPROCESSABL, "the instance's root element %s has no id or version attribute", se.Name.Local)
			}
			return id, version, nil
		}
	}
}

// instanceTimes are an instance's start and end: its start and end
// metadata answers when the form has them (ODK fills them), else now (the
// handler keeps a resend's first times).
func instanceTimes(answers map[string]any, now time.Time) (string, string) {
	at := func(name string) string {
		s, _ := answers[name].(string)
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UTC().Format(time.RFC3339Nano)
		}
		return now.UTC().Format(time.RFC3339Nano)
	}
	return at("start"), at("end")
}

// matchAssignment finds the enumerator's open assignment for the
// instance's household: ODK Collect knows no assignment ids, so the
// household_id answer links the interview to the household drawn. No
// household id, or none assigned to the enumerator, leaves it unlinked;
// two open assignments of one household are refused.
func matchAssignment(c *gin.Context, assignments dotm.AssignmentStore, survey, enumerator string, answers map[string]any) (string, error) {
	hh, _ := answers["household_id"].(string)
	if hh == "" {
		return "", nil
	}
	as, err := assignments.Assignments(c.Request.Context(), dotm.AssignmentFilter{Survey: survey, Enumerator: enumerator})
	if err != nil {
		return "", err
	}
	var found []string
	for _, a := range as {
		if a.HouseholdID == hh && (a.Status == dotm.AssignmentAssigned || a.Status == dotm.AssignmentReturned) {
			found = append(found, a.ID)
		}
	}
	switch len(found) {
	case 0:
		return "", nil
	case 1:
		return found[0], nil
	}
	return "", dotm.Errorf(dotm.EUNPROCESSABL, "household %s has %d open assignments of yours (%s): ask your supervisor", hh, len(found), strings.Join(found, ", "))
}
