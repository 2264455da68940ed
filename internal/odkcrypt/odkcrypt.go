// Package odkcrypt reads and writes ODK encrypted submissions, as ODK
// Collect makes them for a form whose <submission> element carries a
// base64RsaPublicKey (https://getodk.github.io/xforms-spec/encryption;
// Collect's EncryptionUtils, ODK Central's lib/util/crypto.js).
//
// Collect draws a random 256-bit AES key per instance and sends:
//
//   - the submission manifest, in place of the instance XML:
//     <data xmlns="http://www.opendatakit.org/xforms/encrypted" id= version=
//     encrypted="yes"> with <base64EncryptedKey> (the AES key encrypted with
//     the form's RSA public key, RSA/NONE/OAEPWithSHA256AndMGF1Padding:
//     OAEP with SHA-256 for both the label hash and MGF1), <orx:meta>
//     <orx:instanceID>, one <media><file>NAME.enc</file></media> per
//     attachment, <encryptedXmlFile>submission.xml.enc</encryptedXmlFile>
//     and <base64EncryptedElementSignature>;
//   - each attachment and then the instance XML encrypted with
//     AES-256/CFB/PKCS5Padding (CFB with 128-bit feedback over the plaintext
//     padded as PKCS#7), file i (counting from 0, the instance last) under
//     the IV got by adding 1 to byte i mod 16 of md5(instanceID || key),
//     cumulatively;
//   - the element signature: the MD5 of the lines (each ending in "\n")
//     form id, version (when there is one), base64EncryptedKey, instanceID,
//     then "NAME::md5hex" of each attachment's plaintext and
//     "submission.xml::md5hex" of the instance's, encrypted with the
//     public key like the AES key.
//
// Decrypt undoes that with the private key and checks the signature, so
// that a changed, swapped or missing file is refused. This package holds
// no key and does no I/O; the private key is kept sealed by the caller.
package odkcrypt

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
)

// NamespaceEncrypted is the namespace of a submission manifest's elements.
const NamespaceEncrypted = "http://www.opendatakit.org/xforms/encrypted"

// KeyBits is the size of the RSA keys GenerateKey makes (ODK Central's too).
const KeyBits = 2048

// GenerateKey makes a new RSA key pair for a form's encryption.
func GenerateKey() (*rsa.PrivateKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, KeyBits)
	if err != nil {
		return nil, fmt.Errorf("odkcrypt: generate key: %w", err)
	}
	return k, nil
}

// ParsePrivateKey reads an RSA private key in PEM, PKCS#8 ("BEGIN PRIVATE
// KEY", what openssl genpkey writes) or PKCS#1 ("BEGIN RSA PRIVATE KEY",
// what ODK's documentation's openssl genrsa writes), or as PKCS#8 DER.
func ParsePrivateKey(b []byte) (*rsa.PrivateKey, error) {
	der := b
	if blk, _ := pem.Decode(b); blk != nil {
		if blk.Headers["Proc-Type"] != "" {
			return nil, errors.New("odkcrypt: the private key is protected by a passphrase; write it without one (openssl rsa -in key.pem -out plain.pem) to import it")
		}
		der = blk.Bytes
	} else if bytes.Contains(b, []byte("-----BEGIN")) {
		return nil, errors.New("odkcrypt: the private key's PEM is damaged")
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, errors.New("odkcrypt: not an RSA private key in PEM (PKCS#1 or PKCS#8)")
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("odkcrypt: the private key is %T, ODK encryption needs RSA", k)
	}
	return rk, nil
}

// MarshalPrivateKey is the key as PKCS#8 DER (what ParsePrivateKey reads back).
func MarshalPrivateKey(k *rsa.PrivateKey) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil { // only for key types other than RSA
		panic(err)
	}
	return der
}

// PrivateKeyPEM is the key as PKCS#8 PEM.
func PrivateKeyPEM(k *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: MarshalPrivateKey(k)})
}

// PublicKeyBase64 is a public key as an XForm's base64RsaPublicKey and
// XLSForm's public_key: base64 of its SubjectPublicKeyInfo DER (the body
// of a "BEGIN PUBLIC KEY" PEM on one line).
func PublicKeyBase64(k *rsa.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

// ParsePublicKey reads a base64RsaPublicKey (whitespace and a PEM envelope
// are tolerated, as pasted into a settings sheet).
func ParsePublicKey(s string) (*rsa.PublicKey, error) {
	s = strings.NewReplacer("-----BEGIN PUBLIC KEY-----", "", "-----END PUBLIC KEY-----", "").Replace(s)
	s = strings.Join(strings.Fields(s), "")
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("odkcrypt: the public key is not base64")
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, errors.New("odkcrypt: the public key is not an RSA public key (SubjectPublicKeyInfo)")
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("odkcrypt: the public key is %T, ODK encryption needs RSA", k)
	}
	return rk, nil
}

// Fingerprint names a public key: "sha256:" and the first 16 bytes (hex)
// of SHA-256 of its SubjectPublicKeyInfo DER.
func Fingerprint(k *rsa.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:16])
}

// Manifest is an encrypted submission's manifest (what Collect sends as
// xml_submission_file).
type Manifest struct {
	FormID       string
	Version      string
	InstanceID   string
	EncryptedKey string   // base64EncryptedKey
	Media        []string // the <media><file> names, NAME.enc, in order
	XMLFile      string   // encryptedXmlFile, normally submission.xml.enc
	Signature    string   // base64EncryptedElementSignature
}

// IsEncrypted tells whether an instance document is a submission manifest:
// its root element has encrypted="yes" (case-insensitive, as Central reads
// it).
func IsEncrypted(doc []byte) bool {
	dec := xml.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if se, ok := tok.(xml.StartElement); ok {
			for _, a := range se.Attr {
				if a.Name.Local == "encrypted" && strings.EqualFold(strings.TrimSpace(a.Value), "yes") {
					return true
				}
			}
			return false
		}
	}
}

// ParseManifest reads a submission manifest; a missing element is an error
// naming it.
func ParseManifest(doc []byte) (*Manifest, error) {
	var x struct {
		ID        string   `xml:"id,attr"`
		Version   string   `xml:"version,attr"`
		Key       string   `xml:"base64EncryptedKey"`
		Instance  string   `xml:"meta>instanceID"`
		Media     []string `xml:"media>file"`
		XMLFile   string   `xml:"encryptedXmlFile"`
		Signature string   `xml:"base64EncryptedElementSignature"`
	}
	if err := xml.Unmarshal(doc, &x); err != nil {
		return nil, fmt.Errorf("odkcrypt: the submission manifest is not XML: %w", err)
	}
	m := &Manifest{FormID: x.ID, Version: x.Version, InstanceID: strings.TrimSpace(x.Instance), EncryptedKey: strings.TrimSpace(x.Key),
		XMLFile: strings.TrimSpace(x.XMLFile), Signature: strings.TrimSpace(x.Signature)}
	for _, f := range x.Media {
		m.Media = append(m.Media, strings.TrimSpace(f))
	}
	for _, req := range []struct{ name, v string }{
		{"the root's id attribute", m.FormID}, {"base64EncryptedKey", m.EncryptedKey}, {"meta/instanceID", m.InstanceID},
		{"encryptedXmlFile", m.XMLFile}, {"base64EncryptedElementSignature", m.Signature},
	} {
		if req.v == "" {
			return nil, fmt.Errorf("odkcrypt: the encrypted submission's manifest has no %s", req.name)
		}
	}
	for _, f := range append(m.Media, m.XMLFile) {
		if !strings.HasSuffix(f, ".enc") || f == ".enc" || strings.ContainsAny(f, `/\`) {
			return nil, fmt.Errorf("odkcrypt: the manifest names file %q; encrypted files are NAME.enc", f)
		}
	}
	return m, nil
}

// File is a named file's content.
type File struct {
	Name string
	Data []byte
}

// Errors of Decrypt, to tell a wrong key from a damaged submission.
var (
	// ErrWrongKey: the AES key does not decrypt under the private key: the
	// form was encrypted with another public key.
	ErrWrongKey = errors.New("odkcrypt: the submission's key does not decrypt with this private key: the form was encrypted with another public key")
	// ErrTampered: a file does not decrypt, or the element signature does
	// not match the files.
	ErrTampered = errors.New("odkcrypt: the encrypted submission is damaged or was changed")
)

// Decrypt decrypts a submission: files holds the encrypted files by name
// (NAME.enc, as the multipart parts are named). It returns the instance XML
// and the attachments under their plain names, in the manifest's order,
// after checking the element signature. Errors wrap ErrWrongKey or
// ErrTampered, or name the missing file.
func Decrypt(priv *rsa.PrivateKey, m *Manifest, files map[string][]byte) (instance []byte, media []File, err error) {
	encKey, err := base64.StdEncoding.DecodeString(m.EncryptedKey)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: base64EncryptedKey is not base64", ErrTampered)
	}
	key, err := rsa.DecryptOAEP(sha256.New(), nil, priv, encKey, nil)
	if err != nil || len(key) != 32 {
		return nil, nil, ErrWrongKey
	}
	defer clear(key)
	ivs := newIVs(m.InstanceID, key)
	sig := signatureSource(m.FormID, m.Version, m.EncryptedKey, m.InstanceID)
	for i, name := range append(append([]string{}, m.Media...), m.XMLFile) {
		enc, ok := files[name]
		if !ok {
			return nil, nil, fmt.Errorf("odkcrypt: the submission has no file %s, which its manifest names", name)
		}
		plain, err := decryptFile(key, ivs(i), enc)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %s does not decrypt", ErrTampered, name)
		}
		plainName := strings.TrimSuffix(name, ".enc")
		if i == len(m.Media) {
			instance = plain
		} else {
			media = append(media, File{Name: plainName, Data: plain})
		}
		sum := md5.Sum(plain)
		sig.WriteString(plainName + "::" + hex.EncodeToString(sum[:]) + "\n")
	}
	encSig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: base64EncryptedElementSignature is not base64", ErrTampered)
	}
	got, err := rsa.DecryptOAEP(sha256.New(), nil, priv, encSig, nil)
	want := md5.Sum(sig.Bytes())
	if err != nil || subtle.ConstantTimeCompare(got, want[:]) != 1 {
		return nil, nil, fmt.Errorf("%w: the element signature does not match the form id, version, key, instance id and files", ErrTampered)
	}
	return instance, media, nil
}

// Encrypt encrypts an instance and its attachments as ODK Collect does,
// for tests and field simulations: it returns the manifest and the
// encrypted files (the attachments, then submission.xml.enc), named as
// Collect names its multipart parts.
func Encrypt(pub *rsa.PublicKey, formID, version, instanceID string, instance []byte, media []File) ([]byte, []File, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, nil, err
	}
	encKey, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, key, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("odkcrypt: encrypt the key: %w", err)
	}
	b64Key := base64.StdEncoding.EncodeToString(encKey)
	ivs := newIVs(instanceID, key)
	sig := signatureSource(formID, version, b64Key, instanceID)
	var out []File
	all := append(append([]File{}, media...), File{Name: "submission.xml", Data: instance})
	for i, f := range all {
		sum := md5.Sum(f.Data)
		sig.WriteString(f.Name + "::" + hex.EncodeToString(sum[:]) + "\n")
		out = append(out, File{Name: f.Name + ".enc", Data: encryptFile(key, ivs(i), f.Data)})
	}
	sigSum := md5.Sum(sig.Bytes())
	encSig, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, sigSum[:], nil)
	if err != nil {
		return nil, nil, fmt.Errorf("odkcrypt: encrypt the signature: %w", err)
	}
	var b bytes.Buffer
	esc := func(s string) { _ = xml.EscapeText(&b, []byte(s)) }
	b.WriteString(`<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><data xmlns="` + NamespaceEncrypted + `" id="`)
	esc(formID)
	b.WriteString(`"`)
	if version != "" {
		b.WriteString(` version="`)
		esc(version)
		b.WriteString(`"`)
	}
	b.WriteString(` encrypted="yes"><base64EncryptedKey>` + b64Key + `</base64EncryptedKey><orx:meta xmlns:orx="http://openrosa.org/xforms"><orx:instanceID>`)
	esc(instanceID)
	b.WriteString("</orx:instanceID></orx:meta>\n")
	for _, f := range media {
		b.WriteString("<media><file>")
		esc(f.Name + ".enc")
		b.WriteString("</file></media>\n")
	}
	b.WriteString("<encryptedXmlFile>submission.xml.enc</encryptedXmlFile><base64EncryptedElementSignature>" +
		base64.StdEncoding.EncodeToString(encSig) + "</base64EncryptedElementSignature></data>")
	return b.Bytes(), out, nil
}

// signatureSource starts the element signature's text.
func signatureSource(formID, version, b64Key, instanceID string) *bytes.Buffer {
	var b bytes.Buffer
	b.WriteString(formID + "\n")
	if version != "" {
		b.WriteString(version + "\n")
	}
	b.WriteString(b64Key + "\n" + instanceID + "\n")
	return &b
}

// newIVs returns the IV of file i: md5(instanceID || key) with byte j mod
// 16 incremented for each j ≤ i (Collect's getCipher, Central's
// getSubmissionIvs). Calls must come with i = 0, 1, 2, … in turn.
func newIVs(instanceID string, key []byte) func(i int) []byte {
	h := md5.New()
	h.Write([]byte(instanceID))
	h.Write(key)
	seed := h.Sum(nil)
	next := 0
	return func(i int) []byte {
		for ; next <= i; next++ {
			seed[next%16]++
		}
		return bytes.Clone(seed)
	}
}

// encryptFile is AES-256/CFB-128 over the plaintext padded as PKCS#7.
func encryptFile(key, iv, plain []byte) []byte {
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	buf := append(bytes.Clone(plain), bytes.Repeat([]byte{byte(pad)}, pad)...)
	cfb(key, iv, buf, true)
	return buf
}

// decryptFile undoes encryptFile; a length that is not whole blocks or bad
// padding is an error.
func decryptFile(key, iv, enc []byte) ([]byte, error) {
	if len(enc) == 0 || len(enc)%aes.BlockSize != 0 {
		return nil, errors.New("not whole AES blocks")
	}
	buf := bytes.Clone(enc)
	cfb(key, iv, buf, false)
	pad := int(buf[len(buf)-1])
	if pad < 1 || pad > aes.BlockSize {
		return nil, errors.New("bad padding")
	}
	for _, b := range buf[len(buf)-pad:] {
		if int(b) != pad {
			return nil, errors.New("bad padding")
		}
	}
	return buf[:len(buf)-pad], nil
}

// cfb runs CFB with 128-bit feedback in place over whole blocks:
// C_i = P_i xor E(C_{i-1}), C_{-1} = iv (NIST SP 800-38A, 6.3).
func cfb(key, iv, buf []byte, encrypt bool) {
	var block cipher.Block
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // a 32-byte key is checked by the callers
	}
	prev := bytes.Clone(iv)
	ks := make([]byte, aes.BlockSize)
	for off := 0; off < len(buf); off += aes.BlockSize {
		block.Encrypt(ks, prev)
		c := buf[off : off+aes.BlockSize]
		if encrypt {
			subtle.XORBytes(c, c, ks)
			copy(prev, c)
		} else {
			copy(prev, c)
			subtle.XORBytes(c, c, ks)
		}
	}
}
