package collector

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/dotm-survey/dotm"
	"github.com/dotm-survey/dotm/questionnaire"
)

// Submission attachments: the files (photos, recordings, files, audit
// logs) that a submission's media questions name by file name. ODK
// Collect sends them as parts of the multipart POST /submission, split
// over several requests when they exceed X-OpenRosa-Accept-Content-Length:
// each request repeats the instance and carries some of the files, all but
// the last with a part *isIncomplete* = yes. As ODK Central does, the
// first request stores the interview; each later one with the same
// instance adds its files (a resend that adds files is 201; one that adds
// nothing is 202). Files are sealed (dotm.SealAttachment) and stored in
// chunks before the record that makes them visible, so a request cut
// midway leaves no half file. Supervisors and admins list and download
// them through the JSON API.

// MaxAttachmentBytes bounds one attachment: Collect sends a file alone in
// a request when it is over X-OpenRosa-Accept-Content-Length, so one
// file may be as large as the advertised length.
const MaxAttachmentBytes = MaxOpenRosaBytes

// openRosaBodyBytes bounds the body of one OpenRosa submission request:
// the advertised length, which Collect counts in file bytes only, plus
// room for the instance and the multipart framing of up to 100 parts.
const openRosaBodyBytes = MaxOpenRosaBytes + 1<<20

// postedFile is one file part of an OpenRosa submission.
type postedFile struct {
	field, filename string // the part's name and file name (Collect sets both to the file's name)
	contentType     string
	data            []byte
}

// name is the file name the instance is expected to give.
func (p postedFile) name() string {
	if p.filename != "" {
		return p.filename
	}
	return p.field
}

// openRosaPost is a multipart submission as read.
type openRosaPost struct {
	doc        []byte       // xml_submission_file
	files      []postedFile // the other file parts, in the request's order
	incomplete bool         // *isIncomplete* = yes: more files come in another request
}

// readOpenRosaPost reads a multipart submission: the instance in
// xml_submission_file, the files in the other parts (each at most
// MaxAttachmentBytes), and the *isIncomplete* flag. Form fields other than
// these are ignored, as ODK Central ignores them.
func readOpenRosaPost(c *gin.Context) (openRosaPost, error) {
	var post openRosaPost
	mt, params, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return post, dotm.Errorf(dotm.EINVALID, "a submission is multipart/form-data with the instance in xml_submission_file")
	}
	r := multipart.NewReader(c.Request.Body, params["boundary"])
	for {
		part, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return post, partError(err, "")
		}
		field := part.FormName()
		switch {
		case field == "xml_submission_file":
			if post.doc != nil {
				return post, dotm.Errorf(dotm.EINVALID, "two xml_submission_file parts")
			}
			if post.doc, err = io.ReadAll(part); err != nil {
				return post, partError(err, "xml_submission_file")
			}
		case field == "*isIncomplete*":
			b, err := io.ReadAll(io.LimitReader(part, 16))
			if err != nil {
				return post, partError(err, field)
			}
			post.incomplete = strings.EqualFold(strings.TrimSpace(string(b)), "yes")
		case part.FileName() != "":
			f := postedFile{field: field, filename: part.FileName(), contentType: part.Header.Get("Content-Type")}
			if f.data, err = io.ReadAll(io.LimitReader(part, MaxAttachmentBytes+1)); err != nil {
				return post, partError(err, "file "+f.name())
			}
			if len(f.data) > MaxAttachmentBytes {
				return post, dotm.Errorf(dotm.ETOOLARGE, "file %q is over the limit of %d bytes for one file", f.name(), MaxAttachmentBytes)
			}
			post.files = append(post.files, f)
		}
		part.Close()
	}
	if post.doc == nil {
		return post, dotm.Errorf(dotm.EINVALID, "no xml_submission_file part")
	}
	return post, nil
}

// partError is a failure to read a multipart body, naming the part being
// read: over the size limit, or cut short.
func partError(err error, part string) error {
	where := ""
	if part != "" {
		where = " while reading " + part
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return dotm.Errorf(dotm.ETOOLARGE, "the request is over the limit of %d bytes%s; send fewer files per request", mbe.Limit, where)
	}
	return dotm.Errorf(dotm.EINVALID, "malformed multipart body%s: %v", where, err)
}

// mediaAccepts tells whether a file of content type ct may answer a
// question of type typ: image, audio and video questions take their own
// family; file questions and audit logs any type. application/octet-stream
// (a device that does not know the type) is taken for all.
func mediaAccepts(typ, ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err == nil && mt == "application/octet-stream" {
		return true
	}
	if err != nil {
		return false
	}
	switch typ {
	case "image":
		return strings.HasPrefix(mt, "image/")
	case "audio", "background-audio":
		return strings.HasPrefix(mt, "audio/")
	case "video":
		return strings.HasPrefix(mt, "video/")
	}
	return true
}

// matchFiles checks the posted files against the files the instance's
// answers name (form.MediaFiles): each must be one of them (by its file
// name, or else by its part's name, which then becomes its name), of a
// content type the question takes, and sent once. It returns the media
// files the answers name, one per file name.
func matchFiles(form *questionnaire.Form, answers map[string]any, files []postedFile) ([]questionnaire.MediaFile, error) {
	var expected []questionnaire.MediaFile
	byName := map[string]questionnaire.MediaFile{}
	for _, m := range form.MediaFiles(answers) {
		if _, dup := byName[m.Name]; !dup {
			byName[m.Name] = m
			expected = append(expected, m)
		}
	}
	sent := map[string]bool{}
	for i := range files {
		f := &files[i]
		m, ok := byName[f.name()]
		if !ok && f.field != f.name() {
			if m, ok = byName[f.field]; ok {
				f.filename = f.field // the part's name is the answer: it names the file
			}
		}
		switch {
		case !ok:
			return nil, dotm.Errorf(dotm.EINVALID, "file %q is not named by any media question of the instance; send only the files its answers name", f.name())
		case sent[m.Name]:
			return nil, dotm.Errorf(dotm.EINVALID, "file %q is sent twice in one request", m.Name)
		case !mediaAccepts(m.Type, f.contentType):
			return nil, dotm.Errorf(dotm.EUNPROCESSABL, "file %q is %s, but question %s takes %s files", m.Name, f.contentType, m.Path, m.Type)
		}
		sent[m.Name] = true
	}
	return expected, nil
}

// attachments stores and reads submission attachments, sealed under the
// server's current keys.
type attachments struct {
	store dotm.AttachmentStore
	keys  func() *dotm.Keyring
}

// put stores data as the file name of submission (of survey), unless the
// same bytes are stored already. It reports whether it stored them; other
// bytes stored under that name are ECONFLICT, naming the file. This is the
// one way a file of a submission is stored, whatever wire format it came
// in (a decrypted file of an encrypted submission too).
func (a *attachments) put(ctx context.Context, survey, submission, name, contentType string, data []byte, now time.Time) (bool, error) {
	sum := sha256.Sum256(data)
	same := func(old dotm.Attachment) (bool, error) {
		if old.SHA256 == hex.EncodeToString(sum[:]) {
			return false, nil
		}
		return false, dotm.Errorf(dotm.ECONFLICT, "file %q of interview %s was received before with other content", name, submission)
	}
	old, err := a.store.Attachment(ctx, submission, name)
	if err == nil {
		return same(old)
	}
	if dotm.ErrorCode(err) != dotm.ENOTFOUND {
		return false, err
	}
	rec, chunks, err := dotm.SealAttachment(a.keys(), dotm.Attachment{Submission: submission, Survey: survey, Name: name,
		ContentType: contentType, ReceivedAt: now.UTC().Truncate(time.Millisecond)}, data)
	if err != nil {
		return false, &dotm.Error{Code: dotm.EINTERNAL, Err: err}
	}
	err = a.store.PutAttachment(ctx, rec, chunks)
	if dotm.ErrorCode(err) == dotm.ECONFLICT { // stored meanwhile by another request
		if old, err = a.store.Attachment(ctx, submission, name); err != nil {
			return false, err
		}
		return same(old)
	}
	return err == nil, err
}

// attachmentView is one expected file of a submission as the API lists it.
type attachmentView struct {
	Name        string    `json:"name"`
	Question    string    `json:"question"` // the answer's path
	Type        string    `json:"type"`     // the question's type
	Exists      bool      `json:"exists"`   // received; false while the client has not sent it
	ContentType string    `json:"content_type,omitempty"`
	Bytes       int64     `json:"bytes,omitempty"`
	SHA256      string    `json:"sha256,omitempty"`
	MD5         string    `json:"md5,omitempty"`
	ReceivedAt  time.Time `json:"received_at,omitzero"`
}

// expectedFiles are the files a stored submission's answers name, with
// the record of each one received. Answers to direct questions are
// unsealed here, as a media question may be one; only file names leave.
func expectedFiles(ctx context.Context, forms *formCache, att *attachments, s dotm.Submission) ([]attachmentView, map[string]dotm.Attachment, error) {
	cf, err := forms.get(ctx, s.FormID, s.FormVersion)
	if err != nil {
		return nil, nil, err
	}
	answers, err := dotm.UnsealAnswers(att.keys(), s.ID, s.Answers, s.Sealed)
	if err != nil {
		return nil, nil, &dotm.Error{Code: dotm.EINTERNAL, Err: err}
	}
	var out []attachmentView
	stored := map[string]dotm.Attachment{}
	for _, m := range cf.form.MediaFiles(answers) {
		if _, seen := stored[m.Name]; seen {
			continue
		}
		v := attachmentView{Name: m.Name, Question: m.Path, Type: m.Type}
		a, err := att.store.Attachment(ctx, s.ID, m.Name)
		switch {
		case err == nil:
			v.Exists, v.ContentType, v.Bytes, v.SHA256, v.MD5, v.ReceivedAt = true, a.ContentType, a.Bytes, a.SHA256, a.MD5, a.ReceivedAt
		case dotm.ErrorCode(err) != dotm.ENOTFOUND:
			return nil, nil, err
		}
		stored[m.Name] = a
		out = append(out, v)
	}
	return out, stored, nil
}

// attachmentSubmission reads the submission of the request and checks the
// caller may read it.
func attachmentSubmission(c *gin.Context, subs dotm.SubmissionStore) (dotm.Submission, bool) {
	s, err := subs.Submission(c.Request.Context(), c.Param("id"))
	if err == nil {
		err = dotm.MayRead(currentUser(c), s)
	}
	if err != nil {
		fail(c, err)
		return s, false
	}
	return s, true
}

// handleListAttachments: GET /api/v1/submissions/{id}/attachments
// (supervisor, admin): the files the submission's answers name, each
// with whether it was received, its size, type and hashes.
func handleListAttachments(subs dotm.SubmissionStore, forms *formCache, att *attachments) gin.HandlerFunc {
	type response struct {
		Attachments []attachmentView `json:"attachments"`
	}
	return func(c *gin.Context) {
		s, ok := attachmentSubmission(c, subs)
		if !ok {
			return
		}
		list, _, err := expectedFiles(c.Request.Context(), forms, att, s)
		if err != nil {
			fail(c, err)
			return
		}
		if list == nil {
			list = []attachmentView{}
		}
		c.JSON(http.StatusOK, response{Attachments: list})
	}
}

// handleGetAttachment: GET /api/v1/submissions/{id}/attachments/{name}
// (supervisor, admin): one received file, decrypted. Each download is
// audited (read_attachment) before the file leaves.
func handleGetAttachment(subs dotm.SubmissionStore, forms *formCache, att *attachments, audit dotm.Auditor) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		s, ok := attachmentSubmission(c, subs)
		if !ok {
			return
		}
		name := c.Param("name")
		_, stored, err := expectedFiles(ctx, forms, att, s)
		if err != nil {
			fail(c, err)
			return
		}
		a, named := stored[name]
		switch {
		case !named:
			fail(c, dotm.Errorf(dotm.ENOTFOUND, "submission %s names no file %q", s.ID, name))
			return
		case a.Name == "":
			fail(c, dotm.Errorf(dotm.ENOTFOUND, "file %q of submission %s has not been received yet", name, s.ID))
			return
		}
		data, err := dotm.OpenAttachment(att.keys(), a, func(n int) ([]byte, error) { return att.store.AttachmentChunk(ctx, a, n) })
		if err != nil {
			fail(c, &dotm.Error{Code: dotm.EINTERNAL, Err: err})
			return
		}
		if err := record(c, audit, dotm.AuditEntry{Action: "read_attachment", Survey: s.Survey, Target: s.ID,
			Detail: name + " (" + strconv.FormatInt(a.Bytes, 10) + " bytes)"}); err != nil {
			fail(c, err)
			return
		}
		ct := a.ContentType
		if _, _, err := mime.ParseMediaType(ct); err != nil || ct == "" {
			ct = "application/octet-stream"
		}
		c.Header("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
		c.Header("X-Content-Type-Options", "nosniff")
		c.Data(http.StatusOK, ct, data)
	}
}

// needAttachments answers 404 on the attachment routes of a server
// without an attachment store.
func (s *Server) needAttachments() gin.HandlerFunc {
	return func(c *gin.Context) {
		if s.attach == nil {
			fail(c, dotm.Errorf(dotm.ENOTFOUND, "this server keeps no submission files"))
			return
		}
		c.Next()
	}
}
