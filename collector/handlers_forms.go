package collector

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/questionnaire"
)

// assignmentIDPattern: a hand-made id (dotm.IDPattern), or a drawn one
// (AssignmentID: survey:psu:household).
var assignmentIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}(:[A-Za-z0-9][A-Za-z0-9._-]{0,63}){0,2}$`)

func checkID(what, id string) error {
	if !dotm.IDPattern.MatchString(id) {
		return &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "bad " + what,
			Problems: []dotm.Problem{{Path: what, Code: "format", Message: "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"}}}
	}
	return nil
}

// handleCreateSurvey: POST /api/v1/surveys (admin).
func handleCreateSurvey(surveys dotm.SurveyStore) gin.HandlerFunc {
	type request struct {
		ID        string   `json:"id"`
		Country   string   `json:"country"`
		Title     string   `json:"title"`
		Languages []string `json:"languages"`
	}
	return func(c *gin.Context) {
		if u := currentUser(c); len(u.Surveys) > 0 {
			fail(c, dotm.Errorf(dotm.EFORBIDDEN, "only an admin of every survey may create surveys"))
			return
		}
		var req request
		if err := decodeJSON(c, &req); err != nil {
			fail(c, err)
			return
		}
		sv, err := dotm.NewSurvey(req.ID, req.Country, req.Title, req.Languages, currentUser(c).Name, time.Now())
		if err != nil {
			fail(c, err)
			return
		}
		if err := surveys.CreateSurvey(c.Request.Context(), sv); err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusCreated, sv)
	}
}

// handleListSurveys: GET /api/v1/surveys (every role; only surveys in scope).
func handleListSurveys(surveys dotm.SurveyStore) gin.HandlerFunc {
	return func(c *gin.Context) {
		all, err := surveys.Surveys(c.Request.Context())
		if err != nil {
			fail(c, err)
			return
		}
		u := currentUser(c)
		out := []dotm.Survey{}
		for _, s := range all {
			if u.InSurvey(s.ID) {
				out = append(out, s)
			}
		}
		c.JSON(http.StatusOK, gin.H{"surveys": out})
	}
}

// handleGetSurvey: GET /api/v1/surveys/{survey}: the survey and its forms.
func handleGetSurvey(surveys dotm.SurveyStore, forms dotm.FormStore) gin.HandlerFunc {
	type response struct {
		dotm.Survey
		Forms []dotm.FormVersion `json:"forms"`
	}
	return func(c *gin.Context) {
		sv, ok := surveyInScope(c, surveys)
		if !ok {
			return
		}
		fv, err := forms.FormVersions(c.Request.Context(), "", sv.ID)
		if err != nil {
			fail(c, err)
			return
		}
		if fv == nil {
			fv = []dotm.FormVersion{}
		}
		c.JSON(http.StatusOK, response{Survey: sv, Forms: fv})
	}
}

// surveyInScope loads the {survey} of the path and checks the caller's scope.
func surveyInScope(c *gin.Context, surveys dotm.SurveyStore) (dotm.Survey, bool) {
	id := c.Param("survey")
	if !currentUser(c).InSurvey(id) {
		fail(c, dotm.Errorf(dotm.EFORBIDDEN, "survey %s is not in your scope", id))
		return dotm.Survey{}, false
	}
	sv, err := surveys.Survey(c.Request.Context(), id)
	if err != nil {
		fail(c, err)
		return dotm.Survey{}, false
	}
	return sv, true
}

// readFormParts reads a multipart upload: the form (part "form"; format
// from ?format=, the file name's extension or the part's content type)
// and its media files (parts "media").
func readFormParts(c *gin.Context) (format string, data []byte, media []questionnaire.Attachment, err error) {
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return "", nil, nil, dotm.Errorf(dotm.EINVALID, "multipart body: %v", err)
	}
	seenForm := false
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", nil, nil, jsonError(fmt.Errorf("multipart body: %w", err))
		}
		b, err := io.ReadAll(part)
		if err != nil {
			return "", nil, nil, jsonError(err)
		}
		name := part.FileName()
		switch part.FormName() {
		case "form":
			if seenForm {
				return "", nil, nil, dotm.Errorf(dotm.EINVALID, "two parts named form: send one form per upload")
			}
			seenForm, data = true, b
			format = strings.ToLower(c.Query("format"))
			if format == "" {
				format = strings.TrimPrefix(strings.ToLower(path.Ext(name)), ".")
			}
			if format == "" {
				format = map[string]string{"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx", "application/yaml": "yaml", "application/json": "json"}[part.Header.Get("Content-Type")]
			}
			switch format {
			case "xlsx", "yaml", "yml", "json":
			default:
				return "", nil, nil, dotm.Errorf(dotm.EINVALID, "form part %q: want an .xlsx, .yaml or .json file (or add ?format=)", name)
			}
		case "media":
			if name == "" || name != path.Base(name) || strings.ContainsAny(name, "/\\") || strings.HasPrefix(name, ".") || len(name) > 128 {
				return "", nil, nil, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "bad media file name",
					Problems: []dotm.Problem{{Path: "media", Code: "format", Message: fmt.Sprintf("media file name %q: a plain file name (no directory), at most 128 characters, as the form writes it", name)}}}
			}
			ct := mime.TypeByExtension(path.Ext(name))
			if ct == "" {
				ct = "application/octet-stream"
			}
			if strings.EqualFold(path.Ext(name), ".csv") {
				ct = "text/csv"
			}
			media = append(media, questionnaire.Attachment{Name: name, ContentType: ct, Data: b})
		default:
			return "", nil, nil, dotm.Errorf(dotm.EINVALID, "multipart part %q: want parts named form and media", part.FormName())
		}
	}
	if !seenForm {
		return "", nil, nil, dotm.Errorf(dotm.EINVALID, "multipart body without a part named form")
	}
	return format, data, media, nil
}

// mediaProblems is the 422 for media files that do not fit the form, one
// problem per file and column.
func mediaProblems(err error) error {
	e := &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "the media files do not fit the form"}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	for _, x := range errs {
		p := dotm.Problem{Path: "media", Code: "media", Message: trimMessage(x.Error())}
		var me *questionnaire.MediaError
		if errors.As(x, &me) {
			p.Path = "media/" + me.File
		}
		e.Problems = append(e.Problems, p)
	}
	return e
}

// formFormat tells the upload's format from ?format= or the content type.
func formFormat(c *gin.Context) (string, error) {
	if f := strings.ToLower(c.Query("format")); f != "" {
		switch f {
		case "xlsx", "yaml", "yml", "json":
			return f, nil
		}
		return "", dotm.Errorf(dotm.EINVALID, "format %q: want xlsx, yaml or json", f)
	}
	switch c.ContentType() {
	case "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
		return "xlsx", nil
	case "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml":
		return "yaml", nil
	case "application/json":
		return "json", nil
	}
	return "", dotm.Errorf(dotm.EINVALID, "content type %q: send an XLSForm (application/vnd.openxmlformats-officedocument.spreadsheetml.sheet), YAML (application/yaml) or JSON, or add ?format=", c.ContentType())
}

// handleUploadForm: POST /api/v1/surveys/{survey}/forms (admin). The body is
// the form file, or multipart/form-data with the form file in the part
// "form" and the media files it reads (select_one_from_file CSV/XML,
// pulldata() CSVs, csv-external/xml-external files, label images) in parts
// "media", stored with the version (see questionnaire.Form.CheckMedia: a
// bad file is a 422 naming it and its column; files the form reads that
// are missing are listed in missing_media, and the version is accepted, as
// ODK Central accepts it). Each upload is a new immutable version: uploading
// a version that exists with other content (form or media) is a 409, with
// the same content a 200.
func handleUploadForm(surveys dotm.SurveyStore, forms dotm.FormStore, audit dotm.Auditor) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		sv, ok := surveyInScope(c, surveys)
		if !ok {
			return
		}
		var (
			format string
			data   []byte
			media  []questionnaire.Attachment
			err    error
		)
		if c.ContentType() == "multipart/form-data" {
			format, data, media, err = readFormParts(c)
		} else if format, err = formFormat(c); err == nil {
			data, err = io.ReadAll(c.Request.Body)
			if err != nil {
				err = jsonError(err)
			}
		}
		if err != nil {
			fail(c, err)
			return
		}
		if format == "xlsx" {
			if err := checkXLSXSize(data); err != nil {
				fail(c, err)
				return
			}
		}
		f, err := questionnaire.Decode(data, format)
		if err != nil {
			// The decoder's messages name sheet, row and column; they quote
			// the form, never an answer. One problem per form error (the
			// answer lists the first MaxProblems and the count).
			var fes questionnaire.FormErrors
			problems := []dotm.Problem{{Path: "form", Code: "form", Message: trimMessage(err.Error())}}
			if errors.As(err, &fes) && len(fes) > 0 {
				problems = make([]dotm.Problem, len(fes))
				for i, fe := range fes {
					problems[i] = dotm.Problem{Path: "form", Code: "form", Message: trimMessage(fe.Error())}
				}
			}
			fail(c, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "the form does not load", Problems: problems})
			return
		}
		if err := checkID("form_id", f.ID); err != nil {
			fail(c, err)
			return
		}
		if f.Version == "" || len(f.Version) > 64 {
			fail(c, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "the form has no version", Problems: []dotm.Problem{{Path: "settings.version", Code: "required", Message: "set a version (at most 64 characters); each upload needs a new one"}}})
			return
		}
		js, err := f.Encode("json")
		if err != nil {
			fail(c, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "the form cannot be encoded", Err: err})
			return
		}
		missing, err := f.CheckMedia(media)
		if err != nil {
			fail(c, mediaProblems(err))
			return
		}
		h := sha256.New()
		h.Write(js)
		var files []dotm.MediaFile
		slices.SortFunc(media, func(a, b questionnaire.Attachment) int { return strings.Compare(a.Name, b.Name) })
		for _, a := range media {
			sum := md5.Sum(a.Data)
			m := dotm.MediaFile{Name: a.Name, ContentType: a.ContentType, MD5: hex.EncodeToString(sum[:]), Size: len(a.Data), Data: a.Data}
			files = append(files, m)
			// the version's identity covers its media (a form without
			// media keeps the ETag of its JSON alone)
			fmt.Fprintf(h, "\x00%s\x00%s", m.Name, m.MD5)
		}
		sum := h.Sum(nil)
		v := dotm.FormVersion{FormID: f.ID, Version: f.Version, Survey: sv.ID, Title: f.Title, Format: format, JSON: js,
			ETag: `"` + hex.EncodeToString(sum[:16]) + `"`, UploadedAt: time.Now().UTC().Truncate(time.Millisecond), UploadedBy: currentUser(c).Name,
			Media: files, MissingMedia: missing}
		others, err := forms.FormVersions(ctx, f.ID, "")
		if err != nil {
			fail(c, err)
			return
		}
		for _, o := range others {
			if o.Survey != sv.ID {
				fail(c, dotm.Errorf(dotm.ECONFLICT, "form %s belongs to survey %s", f.ID, o.Survey))
				return
			}
		}
		if err := forms.AddFormVersion(ctx, v); err != nil {
			if dotm.ErrorCode(err) != dotm.ECONFLICT {
				fail(c, err)
				return
			}
			old, gerr := forms.FormVersion(ctx, f.ID, f.Version)
			if gerr != nil {
				fail(c, gerr)
				return
			}
			if old.ETag != v.ETag {
				fail(c, dotm.Errorf(dotm.ECONFLICT, "form %s version %s exists with other content; versions are immutable: give the new one another version", f.ID, f.Version))
				return
			}
			c.JSON(http.StatusOK, old)
			return
		}
		u := currentUser(c)
		if err := record(c, audit, dotm.AuditEntry{Actor: u.Name, Role: u.Role, Action: "form_upload", Survey: sv.ID, Target: f.ID + "@" + f.Version}); err != nil {
			fail(c, err)
			return
		}
		c.JSON(http.StatusCreated, v)
	}
}

// handleGetForm: GET /api/v1/forms/{form} (latest version) and
// GET /api/v1/forms/{form}/versions/{version}. The body is the form as JSON;
// the ETag lets a tablet ask again cheaply (If-None-Match → 304).
func handleGetForm(forms dotm.FormStore, latest bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		id := c.Param("form")
		var v dotm.FormVersion
		if latest {
			all, err := forms.FormVersions(ctx, id, "")
			if err != nil {
				fail(c, err)
				return
			}
			if len(all) == 0 {
				fail(c, dotm.Errorf(dotm.ENOTFOUND, "form %s not found", id))
				return
			}
			v = all[len(all)-1]
		} else {
			var err error
			if v, err = forms.FormVersion(ctx, id, c.Param("version")); err != nil {
				fail(c, err)
				return
			}
		}
		if !currentUser(c).InSurvey(v.Survey) {
			fail(c, dotm.Errorf(dotm.EFORBIDDEN, "form %s belongs to survey %s, which is not in your scope", id, v.Survey))
			return
		}
		c.Header("ETag", v.ETag)
		c.Header("Cache-Control", "no-cache")
		c.Header("X-Form-Version", v.Version)
		if etagMatches(c.GetHeader("If-None-Match"), v.ETag) {
			c.Status(http.StatusNotModified)
			return
		}
		c.Data(http.StatusOK, "application/json", v.JSON)
	}
}

// etagMatches implements If-None-Match (RFC 9110 13.1.2, weak comparison).
func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// formCache keeps parsed form versions: versions are immutable, so an entry
// never goes stale. odkKeys, when set, has the surveys' ODK keys: a form
// without a public_key of its own is written with its survey's newest one.
type formCache struct {
	store   dotm.FormStore
	odkKeys dotm.ODKKeyStore
	mu      sync.Mutex
	forms   map[string]*cachedForm
}

type cachedForm struct {
	survey string
	form   *questionnaire.Form
	direct map[string]bool // names of the direct questions
	// media are the files of the version's manifest: those the form
	// carries (itemsets.csv) and those uploaded with it.
	media []questionnaire.Attachment

	xmu    sync.Mutex
	xforms map[string][]byte // the form as an ODK XForm, by the public key written into it ("" none)
}

// xform is a form version as an ODK XForm, written once per version and
// public key.
func (fc *formCache) xform(ctx context.Context, id, version string) ([]byte, error) {
	cf, err := fc.get(ctx, id, version)
	if err != nil {
		return nil, err
	}
	pub := ""
	if fc.odkKeys != nil && cf.form.Settings["public_key"] == "" {
		keys, err := fc.odkKeys.ODKKeys(ctx, cf.survey)
		if err != nil {
			return nil, err
		}
		if len(keys) > 0 {
			pub = keys[len(keys)-1].PublicKey
		}
	}
	cf.xmu.Lock()
	defer cf.xmu.Unlock()
	if x, ok := cf.xforms[pub]; ok {
		return x, nil
	}
	x, err := cf.form.XFormEncrypted(pub)
	if err != nil {
		return nil, &dotm.Error{Code: dotm.EUNPROCESSABL, Message: "form " + id + " version " + version + " cannot be written as an ODK XForm: " + err.Error(), Err: err}
	}
	if cf.xforms == nil {
		cf.xforms = map[string][]byte{}
	}
	cf.xforms[pub] = x
	return x, nil
}

// get returns the parsed version (ENOTFOUND when it does not exist).
func (fc *formCache) get(ctx context.Context, id, version string) (*cachedForm, error) {
	key := id + "@" + version
	fc.mu.Lock()
	cf := fc.forms[key]
	fc.mu.Unlock()
	if cf != nil {
		return cf, nil
	}
	v, err := fc.store.FormVersion(ctx, id, version)
	if err != nil {
		return nil, err
	}
	f, err := questionnaire.Decode(v.JSON, "json")
	if err != nil {
		return nil, &dotm.Error{Code: dotm.EINTERNAL, Err: err}
	}
	cf = &cachedForm{survey: v.Survey, form: f, direct: map[string]bool{}}
	// the version's media: served in its manifest, read by validation
	// (from-file choices, pulldata())
	cf.media = f.Attachments()
	for _, m := range v.Media {
		cf.media = append(cf.media, questionnaire.Attachment{Name: m.Name, ContentType: m.ContentType, Data: m.Data})
	}
	f.AttachMedia(cf.media)
	for _, fld := range f.Fields() {
		if fld.Sensitivity == "direct" {
			cf.direct[fld.Name] = true
		}
	}
	fc.mu.Lock()
	if fc.forms == nil {
		fc.forms = map[string]*cachedForm{}
	}
	fc.forms[key] = cf
	fc.mu.Unlock()
	return cf, nil
}
